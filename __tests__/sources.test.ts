// The Graph facts the code cites must be ones a maintainer can open: docs/graph-facts.md holds
// them, each under an anchor with its Microsoft source. So no file of the project names the design
// document outside the repository the project started from, and every `graph-facts.md#…`
// reference, in code, data or docs, leads to a heading of that page.
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { ROOT } from '../scripts/runner.js'
import { anchorsOf, slug } from './helpers/markdown-anchors.js'

/** Built from parts so that this file does not name it. */
const OUTSIDE_DOC = ['graph-api', 'md'].join('.')

/**
 * Folders that are not the project's own text: the bundle (ncc output), installed packages, git's
 * store, and what builds, coverage, reports and mutation runs leave behind (all git-ignored).
 */
const SKIPPED = new Set(['.git', 'dist', 'node_modules', 'lib', 'coverage', 'reports', '.stryker-tmp'])

/** The project's files, relative to the root, in a stable order; links are not followed. */
function projectFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap(entry => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : projectFiles(path)
      return entry.isFile() && !lstatSync(path).isSymbolicLink() ? [relative(ROOT, path).replace(/\\/g, '/')] : []
    })
}

const FACTS = 'docs/graph-facts.md'
const REFERENCE = /graph-facts\.md#([A-Za-z0-9_-]+)/g

/** Every `graph-facts.md#…` of a text, with its line. */
function references(text: string): Array<{ line: number; anchor: string }> {
  return text.split('\n').flatMap((line, index) => [...line.matchAll(REFERENCE)].map(m => ({ line: index + 1, anchor: m[1]! })))
}

const files = projectFiles()
const read = (file: string): Buffer => readFileSync(join(ROOT, file))
const facts = read(FACTS).toString('utf8')
const anchors = anchorsOf(facts)

describe('the checks themselves', () => {
  it('walk the project, not the bundle or installed packages', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', FACTS, 'emulator/knobs.ts', 'src/index.ts']))
    expect(files.length).toBeGreaterThan(100)
    expect(files.filter(file => /^(dist|node_modules|\.git)\//.test(file))).toEqual([])
  })

  it('find a reference with its line, and the anchors of headings and explicit ids, not of fenced code', () => {
    expect(references(`a\n// see docs/graph-facts.md#image-status and graph-facts.md#read-lag.`)).toEqual([
      { line: 2, anchor: 'image-status' },
      { line: 2, anchor: 'read-lag' }
    ])
    expect(slug('Image PATCH')).toBe('image-patch')
    expect([...anchorsOf('## Notes\n### Notes\n```md\n# Not a heading\n```\n<a id="kept"></a>')]).toEqual([
      'notes',
      'notes-1',
      'kept'
    ])
  })
})

describe('Graph facts are cited from the repository', () => {
  it(`no file of the project mentions ${OUTSIDE_DOC}`, () => {
    const needle = Buffer.from(OUTSIDE_DOC)
    expect(files.filter(file => read(file).includes(needle))).toEqual([])
  })

  it(`every graph-facts.md#… in the project leads to a heading of ${FACTS}`, () => {
    const cited = files.flatMap(file => references(read(file).toString('utf8')).map(ref => ({ file, ...ref })))
    // The code, the conformance data and the emulator's switch table cite the page dozens of times.
    expect(cited.length).toBeGreaterThan(40)
    expect(cited.filter(ref => !anchors.has(ref.anchor))).toEqual([])
  })

  it(`every in-page link of ${FACTS} leads to a heading`, () => {
    const links = [...facts.matchAll(/\]\(#([^)]+)\)/g)].map(m => m[1]!)
    expect(links.length).toBeGreaterThan(20)
    expect(links.filter(link => !anchors.has(link))).toEqual([])
  })

  it('every link between the pages under docs/ leads to a page and a heading there', () => {
    const pages = files.filter(file => /^docs\/[^/]+\.md$/.test(file))
    const links = pages.flatMap(page =>
      [
        ...read(page)
          .toString('utf8')
          .matchAll(/\]\(([\w-]+\.md)#([^)]+)\)/g)
      ].map(m => ({ page, target: `docs/${m[1]}`, anchor: m[2]! }))
    )
    expect(links.map(link => link.target)).toEqual(expect.arrayContaining(['docs/emulator.md', FACTS]))
    expect(
      links.filter(link => !files.includes(link.target) || !anchorsOf(read(link.target).toString('utf8')).has(link.anchor))
    ).toEqual([])
  })

  it('every fact names where Microsoft states it: a learn.microsoft.com page, the metadata or a Microsoft repository', () => {
    const sections = facts.split(/^### /m).slice(1)
    expect(sections.length).toBeGreaterThan(30)
    const unsourced = sections
      .map(section => ({
        fact: slug(section.slice(0, section.indexOf('\n'))),
        sources: /^Sources: [\s\S]*$/m.exec(section)?.[0] ?? ''
      }))
      .filter(({ sources }) => !/https:\/\/learn\.microsoft\.com\/|metadata|github\.com\/microsoftgraph\//.test(sources))
      .map(({ fact }) => fact)
    expect(unsourced).toEqual([])
  })
})
