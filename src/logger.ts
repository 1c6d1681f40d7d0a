// Where the action's log lines and annotations go. The runner reads workflow commands from stdout;
// tests pass a recording logger instead.

import * as core from '@actions/core'

export interface AnnotationTitle {
  title?: string
}

export interface Logger {
  info(message: string): void
  debug(message: string): void
  notice(message: string, props?: AnnotationTitle): void
  warning(message: string, props?: AnnotationTitle): void
  error(message: string, props?: AnnotationTitle): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

export const coreLogger: Logger = {
  info: message => core.info(message),
  debug: message => core.debug(message),
  notice: (message, props) => core.notice(message, props),
  warning: (message, props) => core.warning(message, props),
  error: (message, props) => core.error(message, props),
  group: (name, fn) => core.group(name, fn)
}
