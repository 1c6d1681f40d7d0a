import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { armAuthFailure, isArmAudience, matchArmRoute, parseArmResourceId } from './arm-routes.js'
import { Authority, authFailure, GithubIdTokens } from './auth.js'
import type { ApiVersion, EnumView } from './enums.js'
import { FaultBook, pathMatches } from './faults.js'
import { matchGraphRoute } from './graph-routes.js'
import {
  decodePathSegment,
  defaultCode,
  errorReply,
  readBody,
  wantsEvolvableEnums,
  writeArmReply,
  writeReply,
  type Reply,
  type RequestContext
} from './http-util.js'
import { DEFAULT_KNOBS } from './knobs.js'
import { createRandom } from './random.js'
import { ArmStore, Store } from './state.js'
import type { ArmResourceSeed, Emulator, EmulatorOptions, Knobs, LoggedRequest } from './types.js'
import { WriteBudget } from './write-budget.js'

export type * from './types.js'

const GRAPH_PATH = /^\/(beta|v1\.0)(\/.*)?$/
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/
const GITHUB_ID_TOKEN_PATH = '/_github/idtoken'
const WRITE_METHODS = new Set(['POST', 'PATCH', 'DELETE'])

type ServerName = LoggedRequest['server']

/** How one request is served once faults have been considered. */
interface Target {
  route: string
  /** What fault rules match against: the Graph path after the version prefix, else the whole path. */
  faultPath: string
  /** Whose conventions the answer follows: Graph's OData, the authority's plain JSON, or ARM's. */
  service: 'graph' | 'authority' | 'arm'
  /** The caller asked for evolvable enum members. */
  prefer: boolean
  process: (ctx: RequestContext) => Reply
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const now = options.now ?? Date.now
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600
  const knobs: Knobs = { ...DEFAULT_KNOBS, ...options.knobs }
  // Separate streams, so that requests and faults do not shift the ids of images.
  const entityIds = createRandom(options.seed, 0)
  const requestIds = createRandom(options.seed, 1)
  const store = new Store(now, entityIds, {
    images: options.images,
    policies: options.policies,
    cloudPcs: options.cloudPcs,
    uploadScripts: options.uploadScripts,
    defaultUpload: options.defaultUpload ?? [{ pendingMs: 200, outcome: 'ready' }]
  })
  const armStore = new ArmStore(now())
  const github = new GithubIdTokens(now, createRandom(options.seed, 3), options.githubOidc)
  const authority = new Authority(now, requestIds, options.clients, github, aud => isArmAudience(aud, armUrl))
  const faults = new FaultBook(createRandom(options.seed, 2))
  for (const rule of options.faults ?? []) faults.add(rule)
  const budget = new WriteBudget()
  const requests: LoggedRequest[] = []
  const sleepers = new Set<() => void>()
  const hooks: { method?: string; path?: string | RegExp; act: (e: Emulator) => void }[] = []
  let closed = false
  let url = ''
  let armUrl = ''

  function setArmResource(seed: ArmResourceSeed): void {
    const ref = parseArmResourceId(seed.id)
    if (!ref) throw new Error(`'${seed.id}' is not a managed image, gallery image definition or gallery image version ID`)
    armStore.set(ref, structuredClone(seed))
  }
  for (const seed of options.armResources ?? []) setArmResource(seed)

  const enumView = (version: ApiVersion, prefer: boolean): EnumView => ({
    version,
    includeEvolvable: prefer || !knobs.mapEvolvableWithoutPrefer,
    vmAlreadyAzureAdjoinedSpelling: knobs.vmAlreadyAzureAdjoinedSpelling
  })

  function target(
    method: string,
    path: string,
    headers: Record<string, string>,
    query: Record<string, string>,
    body: string
  ): Target {
    const graph = GRAPH_PATH.exec(path)
    if (graph) {
      const version = graph[1] as ApiVersion
      const rest = (graph[2] ?? '').replace(/\/+$/, '')
      const matched = matchGraphRoute(method, rest)
      const prefer = wantsEvolvableEnums(headers.prefer)
      return {
        route: matched.name,
        faultPath: rest,
        service: 'graph',
        prefer,
        process: () => {
          const auth = authority.check(headers.authorization, aud => !isArmAudience(aud, armUrl))
          if (auth !== 'ok') return authFailure(auth)
          if (WRITE_METHODS.has(method)) {
            const wait = budget.admit(now(), knobs.writeBudget)
            if (wait > 0)
              return errorReply(429, 'TooManyRequests', 'Too many requests. Retry after the time in Retry-After.', {
                'retry-after': String(wait)
              })
          }
          return matched.handle(
            { store, knobs, baseUrl: url },
            { method, version, path: rest, query, body, view: enumView(version, prefer) }
          )
        }
      }
    }
    if (path === GITHUB_ID_TOKEN_PATH)
      return {
        route: 'github.idToken',
        faultPath: path,
        service: 'authority',
        prefer: false,
        process: () => github.request(headers.authorization, query)
      }
    const token = TOKEN_PATH.exec(path)
    return {
      route: token ? 'token' : 'unknown',
      faultPath: path,
      service: 'authority',
      prefer: false,
      process: ctx =>
        token
          ? authority.tokenRequest(
              { method, tenant: decodePathSegment(token[1]), contentType: headers['content-type'], body },
              tokenLifetimeSeconds,
              ctx
            )
          : // Neither a Graph version root nor the authority: no service answers here.
            errorReply(404, 'NotFound', `No resource at '${path}'.`)
    }
  }

  /** Azure Resource Manager: the resource path is what fault rules and hooks match against. */
  function armTarget(method: string, path: string, headers: Record<string, string>, query: Record<string, string>): Target {
    const matched = matchArmRoute(method, path)
    return {
      route: matched.name,
      faultPath: path,
      service: 'arm',
      prefer: false,
      process: () => {
        const auth = authority.check(headers.authorization, aud => isArmAudience(aud, armUrl))
        const caller = authority.claimsOf(headers.authorization)
        if (auth !== 'ok' || caller === undefined)
          return armAuthFailure(auth === 'ok' ? 'invalid' : auth, headers.authorization, caller, {
            armUrl,
            authorityUrl: url,
            now: now()
          })
        return matched.handle({ store: armStore, knobs, authorityUrl: url }, { method, path, query, caller })
      }
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const wake = (): void => {
        clearTimeout(timer)
        sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      sleepers.add(wake)
    })
  }

  async function serve(server: ServerName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const parsed = new URL(req.url ?? '/', 'http://loopback')
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : (v ?? '')])
    )
    const query = Object.fromEntries(parsed.searchParams)
    const entry: LoggedRequest = {
      seq: requests.length + 1,
      time: now(),
      method,
      server,
      path: parsed.pathname,
      route: 'unknown',
      query,
      headers,
      body: '',
      status: 0
    }
    requests.push(entry)
    entry.body = await readBody(req)

    const t =
      server === 'arm'
        ? armTarget(method, parsed.pathname, headers, query)
        : target(method, parsed.pathname, headers, query, entry.body)
    entry.route = t.route
    const hook = hooks.findIndex(
      h => (h.method === undefined || h.method.toUpperCase() === method.toUpperCase()) && pathMatches(h.path, t.faultPath)
    )
    if (hook >= 0) hooks.splice(hook, 1)[0].act(emulator)
    const fault = faults.pick(method, t.faultPath)
    if (fault) entry.fault = fault.kind
    if (fault?.kind === 'delay') {
      await sleep(fault.ms)
      // The client gave up (or the emulator is closing): nobody is left to answer.
      if (closed || res.destroyed || req.socket.destroyed) return
    }
    const ctx: RequestContext = {
      requestId: requestIds.uuid(),
      // ARM keeps the caller's correlation id; Graph its client-request-id.
      clientRequestId: headers[server === 'arm' ? 'x-ms-correlation-request-id' : 'client-request-id'] || requestIds.uuid(),
      date: new Date(now())
    }
    const send = (reply: Reply): void => {
      if (t.service === 'arm') writeArmReply(res, reply, ctx)
      else
        writeReply(res, reply, ctx, {
          graph: t.service === 'graph',
          casing: knobs.errorCodeCasing,
          preferenceApplied: t.prefer && knobs.echoPreferenceApplied
        })
      entry.status = reply.status
    }
    const faultError = (status: number, code: string | undefined, headers?: Record<string, string>): Reply =>
      errorReply(status, code ?? defaultCode(status), STATUS_CODES[status] ?? 'Error', headers)

    switch (fault?.kind) {
      case 'status':
        return send(
          faultError(fault.status, fault.code, fault.retryAfter === undefined ? undefined : { 'retry-after': fault.retryAfter })
        )
      case 'drop':
        req.socket.destroy()
        return
      case 'malformed':
        return send({ status: fault.status ?? 200, raw: fault.body ?? '{"value": [' })
    }
    const reply = t.process(ctx)
    switch (fault?.kind) {
      case 'commitThenDrop':
        req.socket.destroy()
        return
      case 'commitThenStatus':
        return send(faultError(fault.status, fault.code))
      default:
        return send(reply)
    }
  }

  const host = options.host ?? '127.0.0.1'
  /** Starts one server and answers its origin. */
  async function listen(name: ServerName, server: Server, port: number): Promise<string> {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      serve(name, req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(String(err))
        }
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    const address = server.address()
    const bound = typeof address === 'object' && address !== null ? address.port : 0
    return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`
  }
  const server = createServer()
  const armServer = createServer()
  url = await listen('graph', server, options.port ?? 0)
  try {
    armUrl = await listen('arm', armServer, options.armPort ?? 0)
  } catch (err) {
    await new Promise<void>(resolve => server.close(() => resolve()))
    throw err
  }

  const closeServer = (s: Server): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      s.close(err => (err ? reject(err) : resolve()))
      s.closeAllConnections()
    })

  const emulator: Emulator = {
    url,
    armUrl,
    requests,
    writes: () => requests.filter(r => r.server === 'graph' && GRAPH_PATH.test(r.path) && WRITE_METHODS.has(r.method)),
    images: () => store.images.map(i => store.readImage(i, enumView('beta', true))),
    policies: () => store.policies.map(p => store.renderPolicy(p)),
    cloudPcs: () =>
      store.cloudPcs.map(pc => store.readCloudPc(pc, enumView('beta', true), knobs.reprovisionRemoteActionResult === 'shown')),
    reprovisionCount: id => store.findCloudPc(id)?.reprovisions ?? 0,
    scriptReprovision: (id, script) => {
      const pc = store.findCloudPc(id)
      if (!pc) throw new Error(`No Cloud PC with id '${id}'`)
      store.scriptReprovision(pc, script)
    },
    setCloudPcStatus: (id, status) => {
      const pc = store.findCloudPc(id)
      if (!pc) throw new Error(`No Cloud PC with id '${id}'`)
      store.setCloudPcStatus(pc, status)
    },
    addFault: rule => faults.add(rule),
    clearFaults: () => faults.clear(),
    setKnobs: k => {
      Object.assign(knobs, k)
    },
    addUploadScript: s => store.addScript(s),
    issueToken: (o = {}) =>
      authority.mint({
        audience: o.audience ?? url,
        tenantId: o.tenantId,
        clientId: o.clientId,
        lifetimeSeconds: o.lifetimeSeconds ?? tokenLifetimeSeconds
      }),
    revokeTokens: () => authority.revokeAll(),
    githubOidc: {
      requestUrl: `${url}${GITHUB_ID_TOKEN_PATH}?api-version=2.0`,
      requestToken: github.requestToken,
      issued: github.issued
    },
    flip: (id, status, errorCode) => {
      const img = store.findImage(id)
      if (!img) throw new Error(`No image with id '${id}'`)
      store.flip(img, status, errorCode)
    },
    before: (match, act) => void hooks.push({ ...match, act }),
    pointPolicy: (policyId, imageId) => {
      const policy = store.findPolicy(policyId)
      const image = store.findImage(imageId)
      if (!policy || !image) throw new Error(`No policy '${policyId}' or image '${imageId}'`)
      Object.assign(policy, { imageId: image.id, imageDisplayName: image.displayName, imageType: 'custom' })
    },
    setArmResource,
    close: async () => {
      closed = true
      for (const wake of sleepers) wake()
      await Promise.all([closeServer(server), closeServer(armServer)])
    }
  }
  return emulator
}
