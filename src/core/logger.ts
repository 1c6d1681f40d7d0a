// Where the action's log lines and annotations go: the one writer of the step's stdout, which the
// runner reads workflow commands from. Every message passes through untrusted-text, so a name or a
// message from the service cannot become a command; tests pass a recording logger instead.

import * as core from '@actions/core'
import { TITLE_LIMIT, clip, LOG_MESSAGE_LIMIT, logText, textOf } from './untrusted-text.js'

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

// @actions/core escapes the message and properties of a command (%, CR, LF; also `:` and `,` in a
// property), so an annotation, a debug line or a group name stays one command whatever it holds:
// they are only cut to length. core.info writes its text raw: it is made inert line by line.
const message = (text: string): string => clip(textOf(text), LOG_MESSAGE_LIMIT)
const annotation = (props?: AnnotationTitle): AnnotationTitle | undefined =>
  props?.title === undefined ? props : { ...props, title: clip(textOf(props.title), TITLE_LIMIT) }

export const coreLogger: Logger = {
  info: text => core.info(logText(text)),
  debug: text => core.debug(message(text)),
  notice: (text, props) => core.notice(message(text), annotation(props)),
  warning: (text, props) => core.warning(message(text), annotation(props)),
  error: (text, props) => core.error(message(text), annotation(props)),
  group: (name, fn) => core.group(clip(textOf(name), TITLE_LIMIT), fn)
}
