// Text from outside the action (names, statuses and messages from Microsoft Graph and Azure
// Resource Manager, HTTP headers, the inputs) made inert for the one place it is written to. One
// function per destination; each is total (any value in, a string out) and caps the length.
//
// The log: the runner reads workflow commands from the step's stdout. It splits lines on LF, CRLF
// and a bare CR, takes a line that starts with `::` after leading whitespace as a command, and
// finds the legacy `##[command]` anywhere in a line. So `logText` breaks every line the text holds
// (U+0085, U+2028 and U+2029 too) into lines of the log, shows control characters as `\xNN` /
// `\uNNNN`, inserts a space after the first colon of a line that would start with `::`
// (`: :add-mask::x`) and after the first `#` of every `##[` (`# #[stop-commands]`). A space is
// visible and no comparison ignores it, unlike a zero-width character.
//
// The job summary (Markdown with raw HTML, as a pull-request comment is): `htmlText` escapes the
// HTML characters and turns line breaks into `<br>`, so the text stays inside the HTML element it
// is put in (a blank line would end the HTML block and let Markdown through). `mermaidLabel` keeps
// only letters, digits, spaces and plain punctuation, and puts `- ` before a label whose first word
// the gantt grammar would read as a keyword.

/** Longest log message, in UTF-16 code units: a Graph error can be megabytes, a log line should not. */
export const LOG_MESSAGE_LIMIT = 8_000
/** Longest annotation title or log group name: GitHub shows either on one short line. */
export const TITLE_LIMIT = 200
/** Longest label in the summary's gantt chart: a longer one runs over the next bars. */
export const MERMAID_LABEL_LIMIT = 60

/** What `jsonText` keeps of a value; everything past a limit is replaced by a `[cut: …]` string. */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays. */
  depth: number
  /** Longest string (or key), in UTF-16 code units. */
  string: number
  /** Most values, nested ones included; also bounds the work on a shared (non-tree) structure. */
  values: number
}

/** A structure shown as text (a status that came as an object): a glimpse, not the whole. */
const TEXT_JSON_LIMITS: JsonLimits = { depth: 4, string: 200, values: 50 }

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/g
/** C0 and C1 controls (the tab and the line breaks apart) and the bidirectional overrides, which reorder what a reader sees. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u0084\u0086-\u009f\u202a-\u202e\u2066-\u2069]/g
/** What a string comparison may skip or trim between the characters of a command marker. */
const INVISIBLE = String.raw`[\s\p{Cf}\p{Default_Ignorable_Code_Point}\p{M}]`
const COMMAND_START = new RegExp(String.raw`^(${INVISIBLE}*):(?=${INVISIBLE}*:)`, 'u')
const LEGACY_COMMAND = new RegExp(String.raw`#(?=${INVISIBLE}*#${INVISIBLE}*\[)`, 'gu')
const MERMAID_UNSAFE = /[^\p{L}\p{N} ()[\].,+\-_/'=!?@]+/gu
/** Words the gantt lexer (case-insensitive) reads as a statement at the start of a line; a digit may start a date. */
const GANTT_KEYWORD =
  /^(?:\d|acc|call|click|href|gantt|dateformat|inclusiveenddates|topaxis|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|title|section)/i

/** Any value as text: a structure as compact JSON (jsonText never throws). */
export function textOf(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value
    case 'undefined':
      return ''
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'symbol':
      return value.toString()
    case 'function':
      return '[function]'
    default:
      return value === null ? '' : jsonText(value, TEXT_JSON_LIMITS).text
  }
}

/** What an error says, whatever was thrown. */
export function errorText(error: unknown): string {
  try {
    if (error instanceof Error) return textOf(error.message)
  } catch {
    // A message getter that throws: shown as the value it is.
  }
  return textOf(error)
}

/** The first `limit` code units (never half a surrogate pair) and what was left out. */
function cut(text: string, limit: number): { kept: string; note: string } {
  if (text.length <= limit) return { kept: text, note: '' }
  const code = text.charCodeAt(limit - 1)
  const end = code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit
  return { kept: text.slice(0, end), note: `… (${text.length - end} more characters)` }
}

/** `text` cut to `limit` code units, with a note of how many more there were. */
export function clip(text: string, limit: number): string {
  const { kept, note } = cut(text, limit)
  return kept + note
}

/** A message for the log: no line of it can be read as a workflow command. */
export function logText(value: unknown, limit = LOG_MESSAGE_LIMIT): string {
  const { kept, note } = cut(textOf(value), limit)
  return kept.split(LINE_BREAK).map(inertLine).join('\n') + note
}

function inertLine(line: string): string {
  return line.replace(CONTROL, escapeControl).replace(COMMAND_START, '$1: ').replace(LEGACY_COMMAND, '# ')
}

function escapeControl(char: string): string {
  const code = char.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase()}`
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/** Text for an HTML element of the summary (a table cell, a list item, a paragraph), on one line. */
export function htmlText(value: unknown, limit: number): string {
  const { kept, note } = cut(textOf(value), limit)
  return escapeHtml(kept).replace(LINE_BREAK, '<br>') + note
}

/** A task label of the summary's gantt chart: plain words the chart grammar gives no meaning to. */
export function mermaidLabel(value: unknown, limit = MERMAID_LABEL_LIMIT): string {
  const text = textOf(value)
  // Enough to fill the label even after unsafe characters collapse; the rest is never looked at.
  const scanned = text.slice(0, 4 * limit)
  const words = scanned.replace(MERMAID_UNSAFE, ' ').replace(/ +/g, ' ').trim()
  if (words === '') return '(blank)'
  const chars = Array.from(words)
  const longer = chars.length > limit || scanned.length < text.length
  const head = chars.slice(0, limit - 1).join('')
  const label = longer ? `${head.trimEnd()}…` : words
  return GANTT_KEYWORD.test(label) ? `- ${label}` : label
}

/**
 * Any value as JSON text within `limits`, and what was cut: a value nested too deep, a circular
 * reference, a getter that throws, a string too long, too many values. A BigInt becomes a string,
 * a non-finite number null. Never throws.
 */
export function jsonText(value: unknown, limits: JsonLimits): { text: string; cuts: string[] } {
  const cuts = new Set<string>()
  const ancestors = new Set<object>()
  let count = 0
  const marker = (why: string, detail = ''): string => {
    cuts.add(why)
    return `[cut: ${why}${detail}]`
  }
  const tooMany = `more than ${limits.values} values`
  const unreadable = (error: unknown) => marker('values that could not be read', `: ${clip(errorText(error), limits.string)}`)
  /** Reads `holder[key]` (a getter or a proxy may throw) and copies it. */
  const item = (holder: object, key: PropertyKey, depth: number): unknown => {
    try {
      return copy(Reflect.get(holder, key), depth)
    } catch (error) {
      return unreadable(error)
    }
  }
  const copy = (v: unknown, depth: number): unknown => {
    count++
    switch (typeof v) {
      case 'string':
        if (v.length > limits.string) cuts.add(`strings longer than ${limits.string} characters`)
        return clip(v, limits.string)
      case 'number':
        return Number.isFinite(v) ? v : null
      case 'boolean':
        return v
      case 'bigint':
        return v.toString()
      case 'object':
        break
      default:
        return undefined
    }
    if (v === null) return null
    if (ancestors.has(v)) return marker('circular references')
    if (depth >= limits.depth) return marker(`nesting deeper than ${limits.depth} levels`)
    ancestors.add(v)
    try {
      if (Array.isArray(v)) {
        const out: unknown[] = []
        for (let i = 0; i < v.length; i++) {
          if (count >= limits.values) {
            out.push(marker(tooMany))
            break
          }
          out.push(item(v, i, depth + 1) ?? null)
        }
        return out
      }
      // No prototype: a key `__proto__` in an answer stays data.
      const out = Object.create(null) as Record<string, unknown>
      for (const key in v) {
        if (!Object.prototype.hasOwnProperty.call(v, key)) continue
        if (count >= limits.values) {
          out['…'] = marker(tooMany)
          break
        }
        const copied = item(v, key, depth + 1)
        if (copied !== undefined) out[clip(key, limits.string)] = copied
      }
      return out
    } catch (error) {
      // A proxy whose keys or length cannot be read.
      return unreadable(error)
    } finally {
      ancestors.delete(v)
    }
  }
  const plain = copy(value, 0)
  return { text: JSON.stringify(plain ?? null), cuts: [...cuts] }
}
