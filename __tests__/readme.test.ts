// The README's workflows must work as written: every YAML block parses, every step that uses this
// action sets only inputs action.yml declares (and all the required ones), every
// `steps.<id>.outputs.<name>` names an output of the action, every other action is pinned by
// commit SHA (at the commit the project's workflows use), and every in-page link, the table of
// contents first, leads to a heading. No recipe, in the README or under docs/, pastes a `${{ … }}`
// expression into a script.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { parse, parseDocument } from 'yaml'
import { actionUses, majorOf, pinOf, pinProblem } from './helpers/action-pins.js'
import { expressionsInScripts } from './helpers/script-expressions.js'
import { slug } from './helpers/markdown-anchors.js'

const ROOT = new URL('..', import.meta.url)
const read = (name: string): string => readFileSync(new URL(name, ROOT), 'utf8')

const ACTION = 'cloudpc-image-action/cloudpc-image-action'
const readme = read('README.md')
const action = parse(read('action.yml')) as {
  inputs: Record<string, { required?: boolean }>
  outputs: Record<string, unknown>
}
const inputNames = Object.keys(action.inputs)
const requiredInputs = inputNames.filter(name => action.inputs[name]?.required === true)
const outputNames = Object.keys(action.outputs)

interface Fence {
  lang: string
  body: string
  /** 1-based line of the opening fence, to name a block in a failure. */
  line: number
}

interface Heading {
  level: number
  text: string
}

/** The fenced code blocks and the headings outside them, in order. */
function scan(markdown: string): { fences: Fence[]; headings: Heading[]; unclosed: boolean } {
  const fences: Fence[] = []
  const headings: Heading[] = []
  const lines = markdown.split('\n')
  let open: { indent: number; marker: string; lang: string; line: number; body: string[] } | undefined
  lines.forEach((line, index) => {
    if (open) {
      const close = new RegExp(`^\\s*${open.marker[0] === '`' ? '`' : '~'}{${open.marker.length},}\\s*$`)
      if (close.test(line)) {
        fences.push({ lang: open.lang, body: open.body.join('\n'), line: open.line })
        open = undefined
      } else open.body.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)))
      return
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(line)
    if (fence) {
      open = { indent: fence[1]!.length, marker: fence[2]!, lang: fence[3]!.toLowerCase(), line: index + 1, body: [] }
      return
    }
    const heading = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line)
    if (heading) headings.push({ level: heading[1]!.length, text: heading[2]! })
  })
  return { fences, headings, unclosed: open !== undefined }
}

/** Anchors of the headings, with GitHub's -1, -2 suffixes for repeated ones. */
function anchors(headings: Heading[]): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const { text } of headings) {
    const base = slug(text)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    result.add(count === 0 ? base : `${base}-${count}`)
  }
  return result
}

type Step = { id?: unknown; uses: string; with?: unknown }

/** Every mapping with a `uses:` of this action, wherever it sits: a workflow, a list of steps, one step. */
function actionSteps(value: unknown, found: Step[] = []): Step[] {
  if (Array.isArray(value)) for (const item of value) actionSteps(item, found)
  else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    if (typeof record.uses === 'string' && record.uses.startsWith(`${ACTION}@`)) found.push(record as Step)
    for (const child of Object.values(record)) actionSteps(child, found)
  }
  return found
}

/** The keys of a step's `with:` that action.yml does not declare, and the required inputs it leaves out. */
function checkWith(step: Step): { unknown: string[]; missing: string[] } {
  const given = step.with !== null && typeof step.with === 'object' && !Array.isArray(step.with) ? Object.keys(step.with) : []
  return {
    unknown: given.filter(key => !inputNames.includes(key)),
    missing: requiredInputs.filter(name => !given.includes(name))
  }
}

const STEP_OUTPUT = /\bsteps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g
const outputRefs = (text: string): Array<{ id: string; name: string }> =>
  [...text.matchAll(STEP_OUTPUT)].map(m => ({ id: m[1]!, name: m[2]! }))

const { fences, headings, unclosed } = scan(readme)
const yamlBlocks = fences.filter(fence => fence.lang === 'yaml' || fence.lang === 'yml')
// A block that does not parse fails the first check below, and counts as empty in the others.
const parsed = yamlBlocks.map(block => {
  const doc = parseDocument(block.body)
  return { block, value: doc.errors.length === 0 ? (doc.toJS() as unknown) : null }
})
const allSteps = parsed.flatMap(({ block, value }) => actionSteps(value).map(step => ({ line: block.line, step })))

describe('the checks themselves', () => {
  it('slug GitHub anchors as GitHub does', () => {
    expect(slug('Publish from an Azure Compute Gallery (preview)')).toBe('publish-from-an-azure-compute-gallery-preview')
    expect(slug('After azure/login')).toBe('after-azurelogin')
    expect(slug('Retention: keepVersions')).toBe('retention-keepversions')
    expect(slug('The 20-image cap and `keepVersions`')).toBe('the-20-image-cap-and-keepversions')
    expect(slug('When the service is slow, down or throttling')).toBe('when-the-service-is-slow-down-or-throttling')
    expect([
      ...anchors([
        { level: 2, text: 'Notes' },
        { level: 3, text: 'Notes' }
      ])
    ]).toEqual(['notes', 'notes-1'])
  })

  it('find the action in a step list, a workflow or a single step, and flag a wrong or missing input', () => {
    const workflow = parse(
      `jobs:\n  a:\n    steps:\n      - uses: ${ACTION}@v1\n        with: { displayname: x, version: 1.0.0, sourceImageResourceId: y }`
    )
    const [step] = actionSteps(workflow)
    expect(step?.uses).toBe(`${ACTION}@v1`)
    expect(checkWith(step!)).toEqual({ unknown: ['displayname'], missing: ['displayName'] })
    expect(actionSteps(parse(`uses: ${ACTION}@v1`))).toHaveLength(1)
    expect(actionSteps(parse('- uses: actions/checkout@v7'))).toHaveLength(0)
    expect(outputRefs('${{ steps.image.outputs.imageId }} and steps.x-1.outputs.status')).toEqual([
      { id: 'image', name: 'imageId' },
      { id: 'x-1', name: 'status' }
    ])
  })
})

describe('README recipes work as written against action.yml', () => {
  it('every yaml block parses', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(12)
    for (const block of yamlBlocks) {
      const errors = parseDocument(block.body).errors.map(error => error.message)
      expect({ line: block.line, errors }).toEqual({ line: block.line, errors: [] })
    }
    // Workflows, step lists and single steps are all there.
    const values = parsed.map(p => p.value)
    expect(values.some(v => v !== null && typeof v === 'object' && 'jobs' in v)).toBe(true)
    expect(values.some(v => Array.isArray(v))).toBe(true)
    expect(unclosed).toBe(false)
  })

  it('every step that uses the action sets only declared inputs, and every required one', () => {
    expect(allSteps.length).toBeGreaterThanOrEqual(10)
    for (const { line, step } of allSteps) {
      expect(step.with).toEqual(expect.any(Object))
      expect({ line, ...checkWith(step) }).toEqual({ line, unknown: [], missing: [] })
    }
    // Inputs beyond the required ones are shown too, so the check covers more than three names.
    const shown = new Set(allSteps.flatMap(({ step }) => Object.keys(step.with as object)))
    for (const name of ['keepVersions', 'provisioningPolicyIds', 'reprovision', 'reprovisionWaves', 'dryRun', 'clientSecret'])
      expect(shown).toContain(name)
  })

  it('refers to the action at @v1 or at a full commit SHA', () => {
    const refs = [...readme.matchAll(new RegExp(`uses:\\s*${ACTION}@([^\\s#]+)`, 'g'))].map(m => m[1])
    // Every use of the action in the README sits in a yaml block the other checks read.
    expect(refs).toHaveLength(allSteps.length)
    for (const ref of refs) expect(ref).toMatch(/^(v1|[0-9a-f]{40}|<[a-z-]+>)$/)
    expect(refs).toContain('v1')
  })

  it('every steps.<id>.outputs.<name> names an output of action.yml, of a step that uses the action', () => {
    const all = outputRefs(readme)
    expect(all.length).toBeGreaterThanOrEqual(5)
    for (const ref of all) expect({ ...ref, declared: outputNames.includes(ref.name) }).toEqual({ ...ref, declared: true })
    // In a yaml block, the id is that of a step of this action in the same block or, for a block
    // that continues an earlier example, in an earlier one.
    let checked = 0
    const ids: string[] = []
    for (const { block, value } of parsed) {
      for (const step of actionSteps(value)) if (typeof step.id === 'string') ids.push(step.id)
      for (const ref of outputRefs(block.body)) {
        expect({ line: block.line, id: ref.id, actionStep: ids.includes(ref.id) }).toEqual({
          line: block.line,
          id: ref.id,
          actionStep: true
        })
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5)
  })

  it('pins every other action by a full commit SHA with its release, as it tells users to, at the commit the workflows use', () => {
    const uses = yamlBlocks.flatMap(block => actionUses(block.body).map(use => ({ line: block.line, use })))
    const others = uses.filter(({ use }) => !use.uses.startsWith(`${ACTION}@`))
    expect(others.map(({ use }) => use.uses.split('@')[0])).toEqual(
      expect.arrayContaining(['actions/checkout', 'azure/login', 'hashicorp/setup-packer'])
    )
    for (const { line, use } of others) expect({ line, problem: pinProblem(use) }).toEqual({ line, problem: undefined })
    // The recipes and the project's workflows agree on the commit of an action both use.
    const workflowDir = new URL('.github/workflows/', ROOT)
    const workflowPins = new Map(
      readdirSync(workflowDir)
        .flatMap(file => actionUses(readFileSync(new URL(file, workflowDir), 'utf8')))
        .map(pinOf)
        .filter(pin => pin !== undefined)
        .map(pin => [pin.repo, pin.sha])
    )
    const shared = others.map(({ use }) => pinOf(use)!).filter(pin => workflowPins.has(pin.repo))
    expect(shared.map(pin => pin.repo)).toContain('actions/checkout')
    for (const pin of shared) expect(pin).toEqual({ repo: pin.repo, sha: workflowPins.get(pin.repo) })
    expect(others.filter(({ use }) => use.uses.startsWith('actions/checkout@')).map(({ use }) => majorOf(use))).toEqual(['v7'])
  })

  it('has an end-to-end recipe: Packer builds a managed image, the action publishes it with the same OIDC app', () => {
    type Job = { steps?: Array<Record<string, unknown>> }
    const workflows = parsed
      .map(p => p.value)
      .filter((v): v is { jobs: Record<string, Job> } => v !== null && typeof v === 'object' && 'jobs' in v)
    const endToEnd = workflows
      .flatMap(w => Object.values(w.jobs))
      .find(job => (job.steps ?? []).some(step => String(step.uses).startsWith('hashicorp/setup-packer@')))
    expect(endToEnd).toBeDefined()
    const steps = endToEnd!.steps!
    const at = (test: (step: Record<string, unknown>) => boolean) => steps.findIndex(test)
    const login = at(step => String(step.uses).startsWith('azure/login@'))
    const build = at(step => typeof step.run === 'string' && /packer build \S+\.pkr\.hcl/.test(step.run))
    const publish = at(step => String(step.uses).startsWith(`${ACTION}@`))
    expect([login >= 0, build > login, publish > build]).toEqual([true, true, true])
    const signIn = steps[login]!.with as Record<string, string>
    const publishWith = steps[publish]!.with as Record<string, string>
    expect(publishWith.tenantId).toBe(signIn['tenant-id'])
    expect(publishWith.clientId).toBe(signIn['client-id'])
    expect(publishWith.clientSecret).toBeUndefined()
    expect(publishWith.sourceImageResourceId).toMatch(
      /^\/subscriptions\/\$\{\{ [^}]+ \}\}\/resourceGroups\/\$\{\{ [^}]+ \}\}\/providers\/Microsoft\.Compute\/images\/\$\{\{ [^}]+ \}\}$/
    )
  })
})

describe('recipes pass values to scripts through env:, never as ${{ }} inside them', () => {
  /** README.md and every Markdown page under docs/, relative to the repository root. */
  const pages = [
    'README.md',
    ...readdirSync(new URL('docs/', ROOT), { recursive: true, encoding: 'utf8' })
      .filter(name => name.endsWith('.md'))
      .map(name => `docs/${name.replace(/\\/g, '/')}`)
  ]

  /** The scripts of a page's fenced blocks that hold an expression; a yaml block that does not parse counts as one. */
  function offending(markdown: string): Array<{ line: number; at: string; script: string }> {
    return scan(markdown).fences.flatMap(fence => {
      const doc = parseDocument(fence.body)
      // Shell, JSON and other blocks are read as YAML too: one that is not YAML holds no step.
      if (doc.errors.length > 0)
        return fence.lang === 'yaml' || fence.lang === 'yml' ? [{ line: fence.line, at: '(does not parse)', script: '' }] : []
      return expressionsInScripts(doc.toJS()).map(found => ({ line: fence.line, ...found }))
    })
  }

  it('the check finds an expression in run: and in github-script, and accepts env:', () => {
    const injected = [
      '```yaml',
      '- if: failure()',
      '  run: echo "failed with ${{ steps.image.outputs.errorCode }}"',
      '- shell: pwsh',
      '  run: |',
      '    Write-Output "OS build ${{ fromJSON(steps.image.outputs.image).osBuildNumber }}"',
      '- uses: actions/github-script@v8',
      '  with:',
      "    script: core.notice('${{ steps.image.outputs.imageId }}')",
      '```'
    ].join('\n')
    expect(offending(injected).map(o => o.at)).toEqual(['[0].run', '[1].run', '[2].with.script'])
    const throughEnv = [
      '```yaml',
      'jobs:',
      '  a:',
      '    steps:',
      '      - env:',
      '          ERROR_CODE: ${{ steps.image.outputs.errorCode }}',
      '        run: printf \'%q\\n\' "$ERROR_CODE"',
      '      - uses: actions/github-script@v8',
      '        env:',
      '          IMAGE_ID: ${{ steps.image.outputs.imageId }}',
      '        with:',
      '          script: core.notice(process.env.IMAGE_ID)',
      '```'
    ].join('\n')
    expect(offending(throughEnv)).toEqual([])
  })

  it.each(pages)('%s has no ${{ }} in a run: or github-script script:', page => {
    expect(offending(read(page))).toEqual([])
  })
})

describe('README links', () => {
  const targets = anchors(headings)
  const contents = readme.slice(readme.indexOf('## Contents'), readme.indexOf('\n## ', readme.indexOf('## Contents') + 1))

  it('has a table of contents near the top whose links lead to headings', () => {
    expect(readme.indexOf('## Contents')).toBeGreaterThan(0)
    expect(readme.indexOf('## Contents')).toBeLessThan(readme.indexOf('## Requirements'))
    const links = [...contents.matchAll(/\]\(#([^)]+)\)/g)].map(m => m[1]!)
    expect(links.length).toBeGreaterThanOrEqual(20)
    for (const link of links) expect({ link, found: targets.has(link) }).toEqual({ link, found: true })
  })

  it('lists every ## section and every recipe in the table of contents', () => {
    const listed = new Set([...contents.matchAll(/\]\(#([^)]+)\)/g)].map(m => m[1]!))
    const recipesAt = headings.findIndex(h => h.level === 2 && h.text === 'Recipes')
    expect(recipesAt).toBeGreaterThan(0)
    const nextSection = headings.findIndex((h, i) => i > recipesAt && h.level === 2)
    const recipes = headings.slice(recipesAt + 1, nextSection).filter(h => h.level === 3)
    expect(recipes.length).toBeGreaterThanOrEqual(8)
    const sections = headings.filter(h => h.level === 2 && h.text !== 'Contents')
    for (const h of [...sections, ...recipes])
      expect({ heading: h.text, listed: listed.has(slug(h.text)) }).toEqual({ heading: h.text, listed: true })
  })

  it('every in-page link leads to a heading', () => {
    const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map(m => m[1]!)
    expect(links.length).toBeGreaterThan(30)
    for (const link of links) expect({ link, found: targets.has(link) }).toEqual({ link, found: true })
  })

  it('links to SECURITY.md, and every link of README.md and SECURITY.md to a file leads to it and to a heading there', () => {
    expect(readme).toContain('](SECURITY.md)')
    const security = read('SECURITY.md')
    const headingsOf = (page: string) => anchors(scan(read(page)).headings)
    let checked = 0
    for (const [page, text] of [
      ['README.md', readme],
      ['SECURITY.md', security]
    ] as const)
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue // a web page, not checked here
        const [file, anchor] = target!.split('#') as [string, string | undefined]
        const resolved = file === '' ? page : file
        expect({ page, target, exists: existsSync(new URL(resolved, ROOT)) }).toEqual({ page, target, exists: true })
        if (anchor !== undefined && resolved.endsWith('.md'))
          expect({ page, target, heading: headingsOf(resolved).has(anchor) }).toEqual({ page, target, heading: true })
        checked++
      }
    // SECURITY.md points back at the README's sections on pinning and recipes.
    expect(security).toContain('](README.md#pin-a-release)')
    expect(checked).toBeGreaterThan(40)
  })
})
