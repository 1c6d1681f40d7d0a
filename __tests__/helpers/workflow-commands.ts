// What a GitHub runner reads as workflow commands in a step's stdout, by the runner's own rules:
// lines split on LF, CRLF and a bare CR; `::name props::data` once leading whitespace is trimmed;
// the legacy `##[name props]data` anywhere in a line; `stop-commands` ignores every command until
// its token comes back as a command.

/** The commands a runner knows; any other name is plain text. */
const REGISTERED = [
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'notice',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning'
]

export interface WorkflowCommand {
  name: string
  data: string
  /** 0-based, in the runner's split of the stdout. */
  line: number
  form: 'v2' | 'legacy'
}

export interface ReadCommands {
  lines: string[]
  /** Carried out. */
  processed: WorkflowCommand[]
  /** Seen while commands were stopped, and so not carried out. */
  ignored: WorkflowCommand[]
}

export function readWorkflowCommands(stdout: string): ReadCommands {
  const lines = stdout.split(/\r\n|\r|\n/)
  const registered = new Set(REGISTERED)
  const processed: WorkflowCommand[] = []
  const ignored: WorkflowCommand[] = []
  let stopToken: string | undefined
  lines.forEach((text, line) => {
    const found = parseV2(text, registered) ?? parseLegacy(text, registered)
    if (!found) return
    const command = { ...found, line }
    if (stopToken !== undefined) {
      if (command.name === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase())
        stopToken = undefined
        processed.push(command)
      } else ignored.push(command)
      return
    }
    if (command.name === 'stop-commands') {
      stopToken = command.data
      registered.add(command.data.toLowerCase())
    }
    processed.push(command)
  })
  return { lines, processed, ignored }
}

function parseV2(text: string, registered: Set<string>): Omit<WorkflowCommand, 'line'> | undefined {
  const trimmed = text.trimStart()
  if (!trimmed.startsWith('::')) return undefined
  const end = trimmed.indexOf('::', 2)
  if (end < 0) return undefined
  const name = trimmed.slice(2, end).split(' ')[0].toLowerCase()
  return registered.has(name) ? { name, data: trimmed.slice(end + 2), form: 'v2' } : undefined
}

function parseLegacy(text: string, registered: Set<string>): Omit<WorkflowCommand, 'line'> | undefined {
  const start = text.indexOf('##[')
  if (start < 0) return undefined
  const end = text.indexOf(']', start)
  if (end < 0) return undefined
  const name = text
    .slice(start + 3, end)
    .split(' ')[0]
    .toLowerCase()
  return registered.has(name) ? { name, data: text.slice(end + 1), form: 'legacy' } : undefined
}
