// Foreign text made inert for the log: checked with the runner's own rules for reading commands.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { coreLogger } from '../src/core/logger.js'
import { clip, htmlText, LOG_MESSAGE_LIMIT, logText, mermaidLabel, textOf } from '../src/core/untrusted-text.js'
import { readWorkflowCommands } from './helpers/workflow-commands.js'

const VECTORS: [string, string][] = [
  ['::add-mask::x', ': :add-mask::x'],
  ['  ::set-output name=a::b', '  : :set-output name=a::b'],
  ['x ##[stop-commands]y', 'x # #[stop-commands]y'],
  ['a\n::error::b', 'a\n: :error::b'],
  ['a\r::warning::b', 'a\n: :warning::b'],
  ['a\r\n##[group]b', 'a\n# #[group]b'],
  ['a\u2028::add-mask::b', 'a\n: :add-mask::b'],
  ['a\u2029\t::debug::b', 'a\n\t: :debug::b'],
  ['a\u0085::notice::b', 'a\n: :notice::b'],
  ['###[stop-commands]x ##[##[endgroup]', '## #[stop-commands]x # #[# #[endgroup]'],
  // What a string comparison may skip: a soft hyphen, a zero-width space, a byte-order mark.
  [':\u00ad:add-mask::x', ': \u00ad:add-mask::x'],
  ['\ufeff\u200b::add-mask::x', '\ufeff\u200b: :add-mask::x'],
  ['#\u200b#[stop-commands]x', '# \u200b#[stop-commands]x'],
  // Controls are shown, not obeyed: an ANSI colour, a NUL, a right-to-left override.
  ['\u001b[8mhidden\u0000\u202e', '\\x1B[8mhidden\\x00\\u202E']
]

describe('logText', () => {
  it.each(VECTORS)('makes %j inert and readable', (text, shown) => {
    expect(logText(text)).toBe(shown)
    expect(readWorkflowCommands(`${logText(text)}\n`).processed).toEqual([])
  })

  it('leaves ordinary text alone, colons and hashes included', () => {
    const text = 'Policy "Developers #1" (id: a::b): updated [##]'
    expect(logText(text)).toBe(text)
  })

  it(`cuts a message at ${LOG_MESSAGE_LIMIT} characters and says how many more there were`, () => {
    const text = logText(`${'x'.repeat(LOG_MESSAGE_LIMIT - 1)}##[stop-commands]y`)
    expect(text.length).toBe(LOG_MESSAGE_LIMIT + '… (17 more characters)'.length)
    expect(text.endsWith('x#… (17 more characters)')).toBe(true)
    // Never half a surrogate pair.
    expect(clip(`${'x'.repeat(9)}😀`, 10)).toBe(`${'x'.repeat(9)}… (2 more characters)`)
  })

  it('shows any value, whatever it is, without throwing', () => {
    const circular: Record<string, unknown> = { name: '::add-mask::x' }
    circular.self = circular
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('no keys')
        }
      }
    )
    expect(textOf(circular)).toBe('{"name":"::add-mask::x","self":"[cut: circular references]"}')
    expect(textOf(10n)).toBe('10')
    expect(textOf(hostile)).toBe('"[cut: values that could not be read: no keys]"')
    expect(textOf(null)).toBe('')
  })
})

describe('the log writer', () => {
  let written: string[]
  beforeEach(() => {
    written = []
    jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      written.push(String(chunk))
      return true
    })
  })
  afterEach(() => {
    jest.restoreAllMocks()
  })

  it('writes no command of foreign text through info, and each annotation as the one command it is', () => {
    for (const [text] of VECTORS) coreLogger.info(`Policy "${text}" updated.`)
    coreLogger.warning('a\n::add-mask::x ##[stop-commands]y', { title: 'b\r\n::error::c' })
    coreLogger.error(`${'e'.repeat(3 * LOG_MESSAGE_LIMIT)}`, { title: 't'.repeat(1000) })
    const { processed, ignored } = readWorkflowCommands(written.join(''))
    expect(ignored).toEqual([])
    expect(processed.map(c => [c.name, c.form])).toEqual([
      ['warning', 'v2'],
      ['error', 'v2']
    ])
    expect(processed[0].data).toBe('a%0A::add-mask::x ##[stop-commands]y')
    expect(processed[1].data.length).toBe(LOG_MESSAGE_LIMIT + `… (${2 * LOG_MESSAGE_LIMIT} more characters)`.length)
    expect(written.join('')).toContain('::error title=tttt')
    expect(written.join('').length).toBeLessThan(LOG_MESSAGE_LIMIT * 4)
  })
})

describe('htmlText and mermaidLabel', () => {
  it('keeps a paragraph of foreign HTML and Markdown on one line, escaped', () => {
    expect(htmlText('a\n\n# Heading | <b>&"\'\r\nb', 100)).toBe('a<br><br># Heading | &lt;b&gt;&amp;&quot;&#39;<br>b')
    expect(htmlText('x'.repeat(30), 10)).toBe(`${'x'.repeat(10)}… (20 more characters)`)
  })

  it('keeps plain words for a chart label, and keeps its first word from being read as a statement', () => {
    expect(mermaidLabel('failed (internalServerError)')).toBe('failed (internalServerError)')
    expect(mermaidLabel('pending 10m 0s')).toBe('pending 10m 0s')
    expect(mermaidLabel('a :crit, p0; %% b # c `d` \n e')).toBe('a crit, p0 b c d e')
    expect(mermaidLabel('click p0 href "javascript:alert(1)"')).toBe('- click p0 href javascript alert(1)')
    expect(mermaidLabel('Section x')).toBe('- Section x')
    expect(mermaidLabel('2024-01-01')).toBe('- 2024-01-01')
    expect(mermaidLabel('%%{init: {}}%%')).toBe('init')
    expect(mermaidLabel('%%')).toBe('(blank)')
    expect(mermaidLabel('y'.repeat(500))).toBe(`${'y'.repeat(59)}…`)
  })
})
