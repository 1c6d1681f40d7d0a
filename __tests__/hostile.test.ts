// The hostile-answer suite: the bundled action, run as a runner runs it, against a loopback fake
// that answers like Graph, Entra and Azure Resource Manager but with wrong or hostile content.
// Each case is judged the way the fault suite judges a fault: nothing done to what was not asked
// for, no credential sent off its host, no workflow command from foreign text, a bounded run, and
// the outputs written. `npm run test:hostile` records the figures that README and BENCHMARKS show.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { ROOT, RUN_CONTEXT, runAction, type RunnerResult } from '../scripts/runner.js'
import { type HostileProxy, startHostileProxy, startTrap, type Twist, type Twisted } from './helpers/hostile-proxy.js'
import { baseInputs, CLIENT_SECRET, SOURCE } from './helpers/run-in-process.js'
import { readWorkflowCommands } from './helpers/workflow-commands.js'
import { guid } from './helpers/ids.js'

const POLICY = guid('aaaaaaaa', 1)
/** Another team's policy, its Cloud PCs and images: nothing of theirs may change. */
const OTHER_POLICY = guid('aaaaaaaa', 2)
const PCS = [1, 2].map(n => guid('cccccccc', n))
const CEO_PCS = [1, 2, 3].map(n => guid('eeeeeeee', n))
const IMAGES = {
  due: guid('dddddddd', 120),
  inUse: guid('dddddddd', 130),
  finance: guid('dddddddd', 900),
  upperCase: guid('dddddddd', 901),
  trailingSpace: guid('dddddddd', 902)
}
const FOREIGN_IMAGES = [IMAGES.inUse, IMAGES.finance, IMAGES.upperCase, IMAGES.trailingSpace]
const VE = '/beta/deviceManagement/virtualEndpoint'
/** A marker in every forged command: a runner that processed one shows it. */
const FORGED = 'FORGED'
const ATTACK = ` ##[stop-commands]${FORGED}\n::set-output name=imageId::${FORGED}\r::warning::${FORGED} ##[add-mask]${FORGED}`
/** The bundle runs with a small heap: an answer read without a bound ends it. */
const HEAP_MB = 192
/** More requests than any honest run of this scenario makes; a hot loop makes thousands. */
const MAX_REQUESTS = 400
/** The most a body may be read before the action stops reading it. */
const MAX_BODY_READ = 100 * 1024 * 1024

interface Case {
  name: string
  /** The numbered finding of the issue the case plays. */
  finding: number
  twist?: Twist
  armTwist?: Twist
  emulator?: EmulatorOptions
  inputs?: Record<string, string>
  /** Listen on ::1 and give the endpoints as `http://[::1]:PORT`. */
  ipv6?: boolean
  /** The run must end this way for the case to hold; else either way is fine. */
  exit?: 0 | 1
  /** Further checks of the case, each a failed expectation when it returns a string. */
  check?: (e: Emulator, r: RunnerResult, state: CaseState) => string | undefined
}

interface CaseState {
  trap: string
  bytesSent: number
  /** The most bytes one answer got out before the action stopped reading it. */
  largestBody: number
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Twisted => ({
  kind: 'reply',
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body)
})
const isImageRead = (path: string, method: string) => method === 'GET' && /\/deviceImages\/[^/]+$/.test(path)

/** Writes `bytes` of a JSON list's worth of padding, respecting back-pressure, until the client hangs up. */
function huge(state: CaseState, bytes: number) {
  return (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const chunk = Buffer.alloc(1024 * 1024, 0x20)
    let sent = 0
    const pump = () => {
      while (sent < bytes && !res.destroyed) {
        sent += chunk.length
        state.largestBody = Math.max(state.largestBody, sent)
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      if (!res.destroyed) res.end()
    }
    pump()
  }
}

function trickle(state: CaseState, everyMs: number, endless = false) {
  return (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer)
      state.bytesSent++
      res.write(endless ? '[' : ' ')
    }, everyMs)
    res.on('close', () => clearInterval(timer))
  }
}

function cases(state: CaseState): Case[] {
  return [
    {
      name: 'the Cloud PC list ignores $filter',
      finding: 1,
      twist: async (req, forward) =>
        req.method === 'GET' && req.path.endsWith('/cloudPCs')
          ? json(200, JSON.parse((await forward({ url: `${VE}/cloudPCs` })).body))
          : undefined,
      exit: 0
    },
    {
      name: "a next page leads to another policy's list",
      finding: 1,
      twist: async (req, forward) => {
        if (!(req.method === 'GET' && req.path.endsWith('/cloudPCs') && req.url.includes(POLICY))) return undefined
        const page = JSON.parse((await forward()).body) as Record<string, unknown>
        const other = encodeURIComponent(`provisioningPolicyId eq '${OTHER_POLICY}'`)
        return json(200, { ...page, '@odata.nextLink': `http://${req.headers.host}${VE}/cloudPCs?$filter=${other}` })
      },
      exit: 0
    },
    {
      name: 'the policy read answers with another policy',
      finding: 2,
      twist: async (req, forward) =>
        req.method === 'GET' && req.path === `${VE}/provisioningPolicies/${POLICY}`
          ? json(200, JSON.parse((await forward({ url: `${VE}/provisioningPolicies/${OTHER_POLICY}` })).body))
          : undefined,
      exit: 1,
      check: e => (e.writes().length > 0 ? 'wrote after a wrong policy answer' : undefined)
    },
    {
      name: "the policy read is wrapped in 'value'",
      finding: 2,
      twist: async (req, forward) =>
        req.method === 'GET' && req.path === `${VE}/provisioningPolicies/${POLICY}`
          ? json(200, { value: [JSON.parse((await forward()).body)] })
          : undefined,
      exit: 1,
      check: e => (e.writes().length > 0 ? 'uploaded after a policy answer that is not a policy' : undefined)
    },
    {
      name: 'the create answers with an unrelated ready image',
      finding: 3,
      twist: (() => {
        let answered = false
        return async (req, forward) => {
          if (answered || !(req.method === 'POST' && req.path === `${VE}/deviceImages`)) return undefined
          answered = true
          return json(
            201,
            JSON.parse((await forward({ method: 'GET', url: `${VE}/deviceImages/${IMAGES.finance}`, body: '' })).body)
          )
        }
      })()
    },
    {
      name: 'Cloud PC IDs come with braces, spaces and upper case',
      finding: 5,
      inputs: { excludeCloudPcIds: PCS[1] },
      twist: async (req, forward) => {
        if (!(req.method === 'GET' && req.path.endsWith('/cloudPCs'))) return undefined
        const page = JSON.parse((await forward()).body) as { value: { id: string }[] }
        return json(200, { ...page, value: page.value.map(pc => ({ ...pc, id: ` {${pc.id.toUpperCase()}} ` })) })
      },
      check: e => (e.reprovisionCount(PCS[1]) > 0 ? 'reprovisioned an excluded Cloud PC' : undefined)
    },
    ...[301, 302, 307, 308].map((status): Case => ({
      name: `Graph answers ${status} to another port of the same host`,
      finding: 6,
      twist: async req =>
        req.method === 'GET' && req.path.endsWith('/deviceImages')
          ? { kind: 'reply', status, headers: { location: `${state.trap}${req.url}` }, body: '' }
          : undefined,
      exit: 1
    })),
    {
      name: 'the token endpoint answers 307 to another host',
      finding: 6,
      twist: async req =>
        req.path.endsWith('/token')
          ? { kind: 'reply', status: 307, headers: { location: `${state.trap}/steal` }, body: '' }
          : undefined,
      exit: 1
    },
    {
      name: 'ARM answers 302 to another port',
      finding: 6,
      armTwist: async req => ({ kind: 'reply', status: 302, headers: { location: `${state.trap}${req.url}` }, body: '' }),
      inputs: { preflight: 'auto' }
    },
    {
      name: 'the retention DELETE answers 307 to an image retention keeps',
      finding: 6,
      twist: async req =>
        req.method === 'DELETE'
          ? {
              kind: 'reply',
              status: 307,
              headers: { location: `http://${req.headers.host}${VE}/deviceImages/${IMAGES.inUse}` },
              body: ''
            }
          : undefined
    },
    {
      name: 'names, statuses and errorCodes carry workflow commands',
      finding: 8,
      emulator: {
        defaultUpload: [
          { pendingMs: 30, outcome: 'failed', errorCode: 'internalServerError' },
          { pendingMs: 30, outcome: 'ready' }
        ]
      },
      twist: async (req, forward) => {
        const answer = await forward()
        if (req.method !== 'GET' || answer.status !== 200) return { kind: 'reply', ...answer }
        const poison = (value: unknown): unknown =>
          typeof value === 'string' && !/^[0-9a-f-]{36}$/i.test(value) && !/^https?:/.test(value) ? `${value}${ATTACK}` : value
        const body = JSON.parse(answer.body, (key, value: unknown) =>
          ['displayName', 'userPrincipalName', 'imageDisplayName', 'osBuildNumber', 'operatingSystem'].includes(key)
            ? poison(value)
            : value
        ) as unknown
        return json(200, body, { 'request-id': `id ##[stop-commands]${FORGED}` })
      }
    },
    {
      name: 'a Graph error message and request-id carry workflow commands',
      finding: 8,
      twist: async req =>
        req.method === 'POST' && req.path === `${VE}/deviceImages`
          ? json(
              400,
              { error: { code: `BadRequest${ATTACK}`, message: `Refused${ATTACK}` } },
              { 'request-id': `r ##[stop-commands]${FORGED}` }
            )
          : undefined,
      exit: 1
    },
    {
      name: 'the displayName input carries workflow commands',
      finding: 8,
      inputs: { displayName: `Win11-Dev ##[stop-commands]${FORGED}` }
    },
    {
      name: 'an ARM property carries workflow commands',
      finding: 8,
      inputs: { preflight: 'auto' },
      armTwist: async (_req, forward) => {
        const answer = await forward()
        return answer.status === 200
          ? json(200, JSON.parse(answer.body.replace(/"Windows"/, JSON.stringify(`Windows${ATTACK}`))))
          : { kind: 'reply', ...answer }
      }
    },
    {
      name: 'a 2 MB Graph error message with Markdown',
      finding: 9,
      twist: async req =>
        req.method === 'POST' && req.path === `${VE}/deviceImages`
          ? json(400, {
              error: {
                code: 'BadRequest',
                message: `\n\n# Broken out\n\n| a | b |\n${'<img src=x onerror=alert(1)>'.repeat(80_000)}`
              }
            })
          : undefined,
      exit: 1,
      check: (_e, r) =>
        Buffer.byteLength(r.summary) > 1024 * 1024 ? 'the summary is over 1 MiB' : r.summary === '' ? 'no summary' : undefined
    },
    {
      name: 'an image status carries mermaid directives',
      finding: 9,
      twist: async (req, forward) => {
        if (!isImageRead(req.path, req.method)) return undefined
        const image = JSON.parse((await forward()).body) as Record<string, unknown>
        const directives = `\nclick a href "javascript:alert(1)"\n%%{init: {}}%%\nsection FORGED`
        return json(200, { ...image, status: `pending${directives}`, errorCode: `x${directives}` })
      },
      // The chart's own lines may be sections; none may come from the service's text.
      check: (_e, r) =>
        /^\s*(click|%%|section\b.*FORGED)/m.test(r.summary.split('```mermaid')[1]?.split('```')[0] ?? '')
          ? 'a directive reached the chart'
          : undefined
    },
    {
      name: 'a 400 MB Cloud PC list while the rebuilds are watched',
      finding: 11,
      // The watch's reads are bounded by reprovisionTimeoutMinutes; the reads before it by the step's budget.
      twist: (() => {
        let watching = false
        return async req => {
          if (req.path.endsWith('/reprovision')) watching = true
          return watching && req.method === 'GET' && req.path.endsWith('/cloudPCs')
            ? { kind: 'raw', write: huge(state, 400 * 1024 * 1024) }
            : undefined
        }
      })(),
      exit: 1,
      check: () => (state.largestBody > MAX_BODY_READ ? `sent ${state.largestBody} bytes of one answer` : undefined)
    },
    {
      name: 'a 50 MB image while waiting',
      finding: 11,
      twist: async req => (isImageRead(req.path, req.method) ? { kind: 'raw', write: huge(state, 50 * 1024 * 1024) } : undefined),
      exit: 1,
      check: () => (state.largestBody > MAX_BODY_READ ? `sent ${state.largestBody} bytes of one answer` : undefined)
    },
    {
      name: 'an endless body while waiting',
      finding: 11,
      twist: async req => (isImageRead(req.path, req.method) ? { kind: 'raw', write: trickle(state, 1, true) } : undefined),
      exit: 1
    },
    {
      name: 'a body that trickles one byte every 200 ms while waiting',
      finding: 11,
      twist: async req => (isImageRead(req.path, req.method) ? { kind: 'raw', write: trickle(state, 200) } : undefined),
      exit: 1
    },
    {
      name: 'headers, then silence, while waiting',
      finding: 11,
      twist: async req =>
        isImageRead(req.path, req.method)
          ? { kind: 'raw', write: res => void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders() }
          : undefined,
      exit: 1
    },
    {
      name: 'a ready image with a property 10,000 levels deep',
      finding: 12,
      twist: async (req, forward) => {
        if (!isImageRead(req.path, req.method)) return undefined
        const body = (await forward()).body.replace(/^\{/, `{"deep":${'['.repeat(10_000)}${']'.repeat(10_000)},`)
        return { kind: 'reply', status: 200, headers: { 'content-type': 'application/json' }, body }
      },
      exit: 1
    },
    {
      name: 'an image list with a null item',
      finding: 12,
      twist: async req => (req.method === 'GET' && req.path.endsWith('/deviceImages') ? json(200, { value: [null] }) : undefined),
      exit: 1
    },
    {
      name: 'an errorCode that is an object',
      finding: 12,
      twist: async (req, forward) => {
        if (!isImageRead(req.path, req.method)) return undefined
        return json(200, { ...(JSON.parse((await forward()).body) as object), errorCode: { code: 'x' } })
      },
      exit: 1
    },
    {
      name: 'a token that expires in 1e20 seconds',
      finding: 12,
      twist: async (req, forward) => {
        if (!req.path.endsWith('/token')) return undefined
        const token = JSON.parse((await forward()).body) as Record<string, unknown>
        return {
          kind: 'reply',
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(token).replace(/"expires_in":\d+/, '"expires_in":1e20')
        }
      }
    },
    {
      name: 'a status sent as an array',
      finding: 12,
      twist: async (req, forward) =>
        isImageRead(req.path, req.method)
          ? json(200, { ...(JSON.parse((await forward()).body) as object), status: ['ready'] })
          : undefined,
      exit: 1,
      check: (_e, r) => (r.outputs.status === 'ready' ? 'reported ready from an array' : undefined)
    },
    {
      name: 'a status with a trailing space',
      finding: 12,
      twist: async (req, forward) => {
        if (!isImageRead(req.path, req.method)) return undefined
        const image = JSON.parse((await forward()).body) as { status: string }
        return json(200, { ...image, status: `${image.status} ` })
      },
      exit: 0
    },
    ...['0', '-5', '0.001', new Date(0).toUTCString()].map((retryAfter): Case => ({
      name: `429 with Retry-After ${retryAfter}`,
      finding: 13,
      twist: async req =>
        isImageRead(req.path, req.method)
          ? json(429, { error: { code: 'TooManyRequests', message: 'Slow down' } }, { 'retry-after': retryAfter })
          : undefined,
      inputs: { timeoutMinutes: '0.05' },
      exit: 1
    })),
    { name: 'endpoints written http://[::1]:PORT', finding: 13, ipv6: true, exit: 0 },
    // Every case holds another team's images of nearly the same name; this one only publishes.
    { name: "another team's images differ from the displayName only in case or spacing", finding: 4, exit: 0 },
    ...['https://graph.microsoft.com.evil.example', 'https://graph.microsoft.com./', 'https://x&calc.exe'].map(
      (graphEndpoint): Case => ({
        name: `graphEndpoint is ${graphEndpoint}`,
        finding: 7,
        inputs: { graphEndpoint },
        exit: 1,
        check: e => (e.requests.length > 0 ? 'sent a request with an endpoint that is not allowed' : undefined)
      })
    )
  ]
}

interface Verdict {
  name: string
  finding: number
  held: boolean
  wrong: string[]
  requests: number
  durationMs: number
}

const verdicts: Verdict[] = []

function judge(c: Case, e: Emulator, r: RunnerResult, state: CaseState, proxies: HostileProxy[], trapHits: number): string[] {
  const wrong: string[] = []
  if (r.signal !== null || (r.code !== 0 && r.code !== 1)) wrong.push(`ended with ${r.signal ?? `exit code ${r.code}`}`)
  if (/heap out of memory|FATAL ERROR/i.test(r.stderr)) wrong.push('ran out of memory')
  if (c.exit !== undefined && r.code !== c.exit) wrong.push(`exit code ${r.code}, expected ${c.exit}`)
  if (r.stdout.includes('title=Unexpected error')) wrong.push('failed unexpectedly')
  // Outputs are written on every ending.
  for (const name of ['updatedPolicyIds', 'previousPolicyImages', 'reprovisionedCloudPcIds', 'deletedImageIds'])
    if (!(name in r.outputs)) wrong.push(`no ${name} output`)
  if (r.summary === '') wrong.push('no job summary')
  // Nothing done to what was not asked for.
  if (trapHits > 0) wrong.push(`${trapHits} requests reached a host they were redirected to`)
  const left = new Set(e.images().map(i => i.id))
  for (const id of FOREIGN_IMAGES) if (!left.has(id)) wrong.push(`deleted image ${id}, which retention must keep`)
  if (e.policies().find(p => p.id === OTHER_POLICY)?.imageId !== IMAGES.inUse) wrong.push("changed the other team's policy")
  if (e.policies().find(p => p.id === POLICY)?.imageId === IMAGES.finance) wrong.push('pointed the policy at an unrelated image')
  if (r.outputs.imageId === IMAGES.finance) wrong.push('adopted an unrelated image')
  for (const id of CEO_PCS) if (e.reprovisionCount(id) > 0) wrong.push(`reprovisioned ${id} of another policy`)
  for (const id of PCS) if (e.reprovisionCount(id) > 1) wrong.push(`reprovisioned ${id} twice`)
  // No command from foreign text, and every mask in force.
  const reading = readWorkflowCommands(r.stdout)
  const ignoredMasks = reading.ignored.filter(command => command.name === 'add-mask')
  if (ignoredMasks.length > 0) wrong.push(`${ignoredMasks.length} masks printed while commands were stopped`)
  for (const command of reading.processed)
    if (command.form === 'legacy' || ['stop-commands', 'set-output'].includes(command.name) || command.data.startsWith(FORGED))
      wrong.push(`the runner would run "${reading.lines[command.line].slice(0, 80)}"`)
  if (r.outputs.imageId === FORGED) wrong.push('an output was forged')
  // Credentials stay secret: the secret and every token only in the mask commands.
  const tokens = [
    CLIENT_SECRET,
    ...[...e.requests, ...proxies.flatMap(p => p.requests)]
      .map(x => x.headers.authorization?.replace(/^Bearer /, ''))
      .filter((t): t is string => !!t && t.length > 20)
  ]
  const shown = [r.stdout.replace(/^::add-mask::.*$/gm, ''), r.summary, JSON.stringify(r.outputs)].join('\n')
  for (const token of new Set(tokens))
    if (shown.includes(token)) wrong.push('a credential is readable in the log, summary or outputs')
  const requests = e.requests.length + proxies.reduce((n, p) => n + p.requests.length, 0)
  if (requests > MAX_REQUESTS) wrong.push(`${requests} requests: a hot loop`)
  const more = c.check?.(e, r, state)
  if (more) wrong.push(more)
  // What the run said, to tell a wrong verdict from a wrong case.
  if (wrong.length > 0)
    wrong.push(
      ...r.stdout
        .split('\n')
        .filter(l => l.startsWith('::error'))
        .map(l => l.slice(0, 300))
    )
  return wrong
}

async function play(name: string): Promise<Verdict> {
  const trap = await startTrap()
  const state: CaseState = { trap: trap.url, bytesSent: 0, largestBody: 0 }
  const c = cases(state).find(x => x.name === name)!
  const host = c.ipv6 ? '::1' : '127.0.0.1'
  const e = await startEmulator({
    defaultUpload: [{ pendingMs: 30, outcome: 'ready' }],
    images: [
      { id: IMAGES.due, displayName: 'Win11-Dev', version: '1.2.0', sourceImageResourceId: `${SOURCE}-1.2.0`, status: 'ready' },
      { id: IMAGES.inUse, displayName: 'Win11-Dev', version: '1.3.0', sourceImageResourceId: `${SOURCE}-1.3.0`, status: 'ready' },
      {
        id: IMAGES.finance,
        displayName: 'Finance-Image',
        version: '7.0.0',
        sourceImageResourceId: `${SOURCE}-finance`,
        status: 'ready'
      },
      {
        id: IMAGES.upperCase,
        displayName: 'WIN11-DEV',
        version: '1.0.0',
        sourceImageResourceId: `${SOURCE}-other-team`,
        status: 'ready'
      },
      {
        id: IMAGES.trailingSpace,
        displayName: 'Win11-Dev ',
        version: '1.1.0',
        sourceImageResourceId: `${SOURCE}-other-team`,
        status: 'ready'
      }
    ],
    policies: [
      { id: POLICY, displayName: 'Developers', imageType: 'gallery', imageId: 'gallery-image' },
      { id: OTHER_POLICY, displayName: 'Executives', imageType: 'custom', imageId: IMAGES.inUse, imageDisplayName: 'Win11-Dev' }
    ],
    cloudPcs: [
      ...PCS.map((id, i) => ({
        id,
        displayName: `CPC-${i}`,
        userPrincipalName: `u${i}@contoso.com`,
        provisioningPolicyId: POLICY,
        status: 'provisioned'
      })),
      ...CEO_PCS.map((id, i) => ({
        id,
        displayName: `CEO-laptop-${i}`,
        userPrincipalName: `ceo${i}@contoso.com`,
        provisioningPolicyId: OTHER_POLICY,
        status: 'provisioned'
      }))
    ],
    ...c.emulator
  })
  const graph = await startHostileProxy(e.url, c.twist ?? (async () => undefined), host)
  const arm = await startHostileProxy(e.armUrl, c.armTwist ?? (async () => undefined), host)
  try {
    const inputs = baseInputs(
      { url: graph.url, armUrl: arm.url },
      {
        pollIntervalSeconds: '0.05',
        timeoutMinutes: '0.05',
        provisioningPolicyIds: POLICY,
        reprovision: 'true',
        reprovisionTimeoutMinutes: '0.05',
        keepVersions: '1',
        preflight: 'false',
        ...c.inputs
      }
    )
    const r = await runAction({
      inputs,
      env: { ...RUN_CONTEXT, NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` },
      timeoutMs: 60_000
    })
    const wrong = judge(c, e, r, state, [graph, arm], trap.hits.length)
    return {
      name: c.name,
      finding: c.finding,
      held: wrong.length === 0,
      wrong,
      requests: e.requests.length,
      durationMs: r.durationMs
    }
  } finally {
    await Promise.all([graph.close(), arm.close(), trap.close(), e.close()])
  }
}

/** Cases played at once: most of a case is waiting on a deadline, not on the CPU. */
const CONCURRENT_CASES = 6

/** Runs each task given to it once fewer than `limit` are running; its promise settles with the task. */
function limited(limit: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    while (running >= limit) await new Promise<void>(resolve => waiting.push(resolve))
    running++
    try {
      return await task()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

describe('hostile answers', () => {
  const names = cases({ trap: '', bytesSent: 0, largestBody: 0 }).map(c => c.name)
  const played = new Map<string, Promise<Verdict>>()
  // Every case starts here, a few at a time; each test then waits for its own.
  beforeAll(() => {
    const run = limited(CONCURRENT_CASES)
    for (const name of names)
      played.set(
        name,
        run(() => play(name))
      )
  })

  it.each(names)(
    'holds when %s',
    async name => {
      const verdict = await played.get(name)!
      verdicts.push(verdict)
      expect(verdict.wrong).toEqual([])
    },
    180_000
  )

  afterAll(() => {
    if (process.env.HOSTILE_SUITE !== 'record') return
    const figures = {
      node: process.version,
      cases: verdicts.length,
      held: verdicts.filter(v => v.held).length,
      findings: [...new Set(verdicts.map(v => v.finding))].sort((a, b) => a - b),
      wrongOutcomes: verdicts.filter(v => !v.held).length,
      slowestCaseMs: Math.max(...verdicts.map(v => v.durationMs))
    }
    writeFileSync(join(ROOT, 'bench', 'hostile.json'), `${JSON.stringify(figures, null, 2)}\n`)
  })
})
