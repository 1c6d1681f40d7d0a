import type { AnnotationTitle, Logger } from '../../src/core/logger.js'

export interface LogLine {
  level: 'info' | 'debug' | 'notice' | 'warning' | 'error' | 'group'
  message: string
  title?: string
}

/** A logger that keeps every line, so tests can assert on what a person would read. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = []
  info(message: string): void {
    this.lines.push({ level: 'info', message })
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message })
  }
  notice(message: string, props?: AnnotationTitle): void {
    this.lines.push({ level: 'notice', message, title: props?.title })
  }
  warning(message: string, props?: AnnotationTitle): void {
    this.lines.push({ level: 'warning', message, title: props?.title })
  }
  error(message: string, props?: AnnotationTitle): void {
    this.lines.push({ level: 'error', message, title: props?.title })
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push({ level: 'group', message: name })
    return fn()
  }
  of(level: LogLine['level']): LogLine[] {
    return this.lines.filter(line => line.level === level)
  }
  text(): string {
    return this.lines.map(line => `${line.level}: ${line.title ? `[${line.title}] ` : ''}${line.message}`).join('\n')
  }
}
