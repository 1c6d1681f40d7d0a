import { chmodSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { startRecordingProxy } from './helpers/connect-proxy.js'
import { FakeClock } from './helpers/fake-clock.js'
import { baseInputs, CLIENT_SECRET, runInProcess } from './helpers/run-in-process.js'

const TENANT = '00000000-0000-0000-0000-000000000001'
const CLIENT = '00000000-0000-0000-0000-000000000002'
const SUBJECT = 'repo:contoso/cloudpc-images:ref:refs/heads/main'

let emulator: Emulator | undefined
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ defaultUpload: [{ pendingMs: 100, outcome: 'ready' }], ...options })
  return emulator
}

/** Inputs with only the given credential inputs set. */
function inputs(e: Emulator, credentials: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const all = baseInputs(e, extra)
  delete all.tenantId
  delete all.clientId
  delete all.clientSecret
  return { ...all, ...credentials }
}

const tokenRequests = (e: Emulator) => e.requests.filter(r => r.route === 'token')
const graphTokens = (e: Emulator) => [
  ...new Set(
    e.requests
      .filter(r => r.headers.authorization)
      .filter(r => r.route !== 'github.idToken')
      .map(r => r.headers.authorization.replace(/^Bearer /, ''))
  )
]

/** Sets the variables a runner gives a job with `permissions: id-token: write`. */
function grantIdToken(e: Emulator): void {
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = e.githubOidc.requestUrl
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = e.githubOidc.requestToken
  cleanups.push(() => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  })
}

const realIdToken = { getIDToken: (audience: string) => core.getIDToken(audience), setSecret: () => undefined }

describe('access token', () => {
  it('uses a given token without asking Entra for one', async () => {
    const e = await start()
    const r = await runInProcess(inputs(e, { accessToken: e.issueToken() }))
    expect(r.code).toBe(0)
    expect(tokenRequests(e)).toEqual([])
  })

  it('warns at the start when the token expires before the wait may end', async () => {
    const e = await start()
    const r = await runInProcess(inputs(e, { accessToken: e.issueToken({ lifetimeSeconds: 600 }) }, { timeoutMinutes: '30' }))
    expect(r.code).toBe(0)
    expect(r.logger.of('warning')).toContainEqual(
      expect.objectContaining({
        title: 'Access token may expire during the wait',
        message: expect.stringMatching(/expires in (9|10)m/)
      })
    )
  })

  it('fails clearly when the token expires during the wait', async () => {
    // On a clock the emulator shares, the token expires after exactly five polls, however busy the machine.
    const clock = new FakeClock()
    const e = await start({ defaultUpload: [{ pendingMs: 5000, outcome: 'ready' }], now: () => clock.now() })
    const r = await runInProcess(
      inputs(e, { accessToken: e.issueToken({ lifetimeSeconds: 1 }) }, { pollIntervalSeconds: '0.2' }),
      { clock }
    )
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Access token expired')
    expect(error.message).toMatch(/cannot be renewed.*clientSecret or a GitHub OIDC federated credential/)
    expect(r.outputs.status).toBe('pending')
  })
})

describe('client secret', () => {
  const registered = { clients: [{ clientId: CLIENT, tenantId: TENANT, clientSecret: CLIENT_SECRET }] }

  it('asks for the .default scope of the Graph endpoint at the tenant token endpoint', async () => {
    const e = await start(registered)
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    const [request] = tokenRequests(e)
    expect(request.path).toBe(`/${TENANT}/oauth2/v2.0/token`)
    const form = new URLSearchParams(request.body)
    expect(Object.fromEntries(form)).toEqual({
      client_id: CLIENT,
      grant_type: 'client_credentials',
      scope: `${e.url}/.default`,
      client_secret: CLIENT_SECRET
    })
  })

  it.each([
    [
      'a wrong secret',
      { clientSecret: 'wrong' },
      'Sign-in failed: AADSTS7000215',
      /client secret is wrong.*trace_id: [0-9a-f-]+; correlation_id/
    ],
    [
      'an unknown application',
      { clientId: '00000000-0000-0000-0000-00000000dead' },
      'Sign-in failed: AADSTS700016',
      /does not exist in this tenant/
    ]
  ])('explains %s', async (_name, overrides, title, message) => {
    const e = await start(registered)
    const r = await runInProcess(baseInputs(e, overrides))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')).toEqual([expect.objectContaining({ title, message: expect.stringMatching(message) })])
    expect(e.requests.filter(x => x.route !== 'token')).toEqual([])
  })
})

describe('GitHub OIDC federated credential', () => {
  const federated = { clients: [{ clientId: CLIENT, federated: [{ subject: SUBJECT }] }], githubOidc: { subject: SUBJECT } }

  it('exchanges a fresh GitHub ID token for every Entra token through a wait of several token lifetimes', async () => {
    const e = await start({ ...federated, tokenLifetimeSeconds: 1, defaultUpload: [{ pendingMs: 3000, outcome: 'ready' }] })
    grantIdToken(e)
    const r = await runInProcess(inputs(e, { tenantId: TENANT, clientId: CLIENT }, { pollIntervalSeconds: '0.2' }), realIdToken)
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    const exchanges = tokenRequests(e)
    expect(exchanges.length).toBeGreaterThanOrEqual(3)
    const assertions = exchanges.map(x => new URLSearchParams(x.body).get('client_assertion'))
    expect(new Set(assertions).size).toBe(exchanges.length)
    expect(assertions).toEqual(e.githubOidc.issued)
    // The preflight's Azure Resource Manager token comes from the same federated credential, with its own assertion.
    expect(exchanges.map(x => new URLSearchParams(x.body).get('scope'))).toContain(`${e.armUrl}/.default`)
    expect(e.requests.filter(x => x.route === 'arm.images.get').map(x => x.status)).toEqual([200])
    const idRequest = e.requests.find(x => x.route === 'github.idToken')!
    expect(idRequest.query.audience).toBe('api://AzureADTokenExchange')
    expect(new URLSearchParams(exchanges[0].body).get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
    )
    expect(e.requests.filter(x => x.status === 401)).toEqual([])
  })

  it('sends the configured audience', async () => {
    const e = await start({
      clients: [{ clientId: CLIENT, federated: [{ subject: SUBJECT, audience: 'api://contoso-images' }] }],
      githubOidc: { subject: SUBJECT }
    })
    grantIdToken(e)
    const r = await runInProcess(inputs(e, { tenantId: TENANT, clientId: CLIENT, audience: 'api://contoso-images' }), realIdToken)
    expect(r.code).toBe(0)
  })

  it('names the subject GitHub sent when no federated credential matches', async () => {
    const e = await start({ ...federated, githubOidc: { subject: 'repo:contoso/cloudpc-images:pull_request' } })
    grantIdToken(e)
    const r = await runInProcess(inputs(e, { tenantId: TENANT, clientId: CLIENT }), realIdToken)
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Sign-in failed: AADSTS70021')
    expect(error.message).toContain('GitHub sent the subject "repo:contoso/cloudpc-images:pull_request"')
    expect(error.message).toMatch(/add one whose subject matches/)
  })

  it('says to grant id-token: write when the runner offers no ID token', async () => {
    const e = await start(federated)
    const r = await runInProcess(inputs(e, { tenantId: TENANT, clientId: CLIENT }), realIdToken)
    expect(r.code).toBe(1)
    expect(r.logger.of('error')).toEqual([
      expect.objectContaining({
        title: 'GitHub OIDC token unavailable',
        message: expect.stringContaining('"permissions: id-token: write"')
      })
    ])
    expect(e.requests).toEqual([])
  })
})

describe('Azure CLI session', () => {
  /**
   * A stand-in `az` that records its arguments and prints what `az account get-access-token` prints:
   * `token`, or for the resource `arm.resource` the token `arm.token`.
   */
  function fakeAz(token: string, arm?: { resource: string; token: string }): { dir: string; argsFile: string } {
    const dir = mkdtempSync(join(tmpdir(), 'fake-az-'))
    const argsFile = join(dir, 'args')
    const answer = (accessToken: string) =>
      JSON.stringify({
        accessToken,
        expiresOn: '2030-01-01 00:00:00.000000',
        expires_on: Math.floor(Date.now() / 1000) + 3600,
        subscription: 'x',
        tenant: TENANT,
        tokenType: 'Bearer'
      })
    writeFileSync(join(dir, 'answer.json'), answer(token))
    writeFileSync(join(dir, 'arm.json'), answer(arm?.token ?? token))
    // `az account get-access-token --resource URL ...`: the URL is the fourth argument.
    writeFileSync(
      join(dir, 'az'),
      `#!/bin/sh\necho "$@" >> "${argsFile}"\nif [ "$4" = "${arm?.resource ?? ''}" ]; then cat "${join(dir, 'arm.json')}"; else cat "${join(dir, 'answer.json')}"; fi\n`
    )
    chmodSync(join(dir, 'az'), 0o755)
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    return { dir, argsFile }
  }

  it('uses the session of an earlier azure/login step when no credentials are given', async () => {
    const e = await start()
    const az = fakeAz(e.issueToken(), { resource: e.armUrl, token: e.issueToken({ audience: e.armUrl }) })
    const result = await runAction({
      inputs: inputs(e, {}, { pollIntervalSeconds: '0.1' }),
      env: { ...RUN_CONTEXT, PATH: `${az.dir}:${process.env.PATH}` }
    })
    expect(result.stdout).not.toMatch(/::error/)
    expect(result.code).toBe(0)
    // One token for Graph, one for Azure Resource Manager (the preflight), from the same session.
    expect(readFileSync(az.argsFile, 'utf8').trim().split('\n')).toEqual([
      `account get-access-token --resource ${e.url} --output json`,
      `account get-access-token --resource ${e.armUrl} --output json`
    ])
    expect(e.requests.filter(r => r.route === 'arm.images.get').map(r => r.status)).toEqual([200])
    expect(tokenRequests(e)).toEqual([])
  })

  it('lists the ways to sign in when there is neither a credential nor az', async () => {
    const e = await start()
    const r = await runInProcess(inputs(e, {}))
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    expect(error.title).toBe('No credentials')
    for (const way of ['id-token: write', 'clientSecret', 'azure/login', 'accessToken']) expect(error.message).toContain(way)
    expect(e.requests).toEqual([])
  })
})

describe('clouds', () => {
  async function viaProxy(cloud: string, credentials: Record<string, string>): Promise<string[]> {
    const proxy = await startRecordingProxy()
    cleanups.push(() => proxy.close())
    process.env.https_proxy = proxy.url
    cleanups.push(() => delete process.env.https_proxy)
    const r = await runInProcess(
      {
        displayName: 'Win11',
        version: '1.0.0',
        sourceImageResourceId: baseInputs('x').sourceImageResourceId,
        cloud,
        ...credentials
      },
      { retry: { baseDelayMs: 1, maxDelayMs: 1, stepBudgetMs: 0 } }
    )
    expect(r.code).toBe(1)
    return [...new Set(proxy.hosts)]
  }

  it('sends usgov sign-in to login.microsoftonline.us and Graph calls to graph.microsoft.us', async () => {
    expect(await viaProxy('usgov', { tenantId: TENANT, clientId: CLIENT, clientSecret: 'x' })).toEqual([
      'login.microsoftonline.us:443'
    ])
    expect(await viaProxy('usgov', { accessToken: 'opaque-token' })).toEqual(['graph.microsoft.us:443'])
  })

  it('sends global requests to the global hosts', async () => {
    expect(await viaProxy('global', { tenantId: TENANT, clientId: CLIENT, clientSecret: 'x' })).toEqual([
      'login.microsoftonline.com:443'
    ])
    expect(await viaProxy('global', { accessToken: 'opaque-token' })).toEqual(['graph.microsoft.com:443'])
  })

  it.each(['graphEndpoint', 'authorityHost'])('refuses http:// to a non-loopback %s before any request', async input => {
    const e = await start()
    const proxy = await startRecordingProxy()
    cleanups.push(() => proxy.close())
    process.env.http_proxy = proxy.url
    cleanups.push(() => delete process.env.http_proxy)
    const r = await runInProcess(baseInputs(e, { [input]: 'http://graph.contoso.example' }))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: `Invalid input: ${input}`,
      message: expect.stringContaining('loopback')
    })
    expect(e.requests).toEqual([])
    expect(proxy.hosts).toEqual([])
  })
})

describe('token answers out of bounds', () => {
  it('takes an expires_in of 1e20 as 24 hours instead of failing', async () => {
    const e = await start({
      clients: [{ clientId: CLIENT, tenantId: TENANT, clientSecret: CLIENT_SECRET }],
      tokenLifetimeSeconds: 1e20
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(r.logger.of('debug').map(l => l.message)).toContainEqual(
      expect.stringContaining('expires_in 100000000000000000000 is beyond 24h 0m, the longest Entra issues: taken as 24h 0m.')
    )
  })

  it.each([
    ['an object', { sub: SUBJECT }],
    ['a number', 12345],
    ['not a JWT', 'opaque-value']
  ])('refuses a GitHub ID token that is %s before anything goes to Entra', async (_what, value) => {
    const e = await start({ clients: [{ clientId: CLIENT, federated: [{ subject: SUBJECT }] }] })
    // The runner's ID token service, answering with a `value` that is no token.
    const runner = createServer((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ value }))
    )
    await new Promise<void>(resolve => runner.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise(resolve => runner.close(resolve)))
    const address = runner.address()
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/idtoken?api-version=2.0`
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'runner-request-token'
    cleanups.push(() => {
      delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
      delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    })
    const r = await runInProcess(inputs(e, { tenantId: TENANT, clientId: CLIENT }), realIdToken)
    expect(r.code).toBe(1)
    expect(r.logger.of('error')).toEqual([
      expect.objectContaining({
        title: 'GitHub OIDC token unavailable',
        message: expect.stringContaining('without a readable token (expected a signed JWT)')
      })
    ])
    expect(e.requests).toEqual([])
  })
})

describe('endpoints outside the supported clouds', () => {
  it.each([
    ['authorityHost', 'https://login.microsoftonline.com.evil.example'],
    ['authorityHost', 'https://login.microsoftonline.com./'],
    ['authorityHost', 'https://login.microsoftonline.com:8443'],
    ['authorityHost', 'https://l\u043egin.microsoftonline.com'],
    ['graphEndpoint', 'https://graph.microsoft.com.evil.example'],
    ['graphEndpoint', 'https://x&calc.exe']
  ])('refuses %s %s before the secret or a token goes anywhere', async (input, url) => {
    const e = await start()
    const proxy = await startRecordingProxy()
    cleanups.push(() => proxy.close())
    process.env.https_proxy = proxy.url
    cleanups.push(() => delete process.env.https_proxy)
    const calls: string[][] = []
    const r = await runInProcess(baseInputs(e, { [input]: url }), {
      runAz: async args => {
        calls.push(args)
        return { ok: false, missing: true, message: 'az: not found' }
      }
    })
    expect(r.code).toBe(1)
    expect(r.logger.of('error')).toEqual([
      expect.objectContaining({ title: `Invalid input: ${input}`, message: expect.stringContaining(`${input} must be https://`) })
    ])
    expect(proxy.hosts).toEqual([])
    expect(e.requests).toEqual([])
    expect(calls).toEqual([])
  })
})

describe('permissions', () => {
  it('names the missing permission and the Reader role when a create is forbidden', async () => {
    const e = await start({
      faults: [{ method: 'POST', path: /deviceImages$/, fault: { kind: 'status', status: 403, code: 'Forbidden' } }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    expect(error.message).toContain('CloudPC.ReadWrite.All')
    expect(error.message).toContain('Reader role on the subscription')
  })
})

describe('secrets never reach the log, the outputs or the summary', () => {
  const SECRET = 'Zx9~never-print-this-secret'

  it.each([
    ['an access token and a client secret both set', 'static'],
    ['a client secret', 'secret'],
    ['a GitHub OIDC federated credential', 'oidc']
  ])('with %s', async (_name, kind) => {
    const e = await start({
      tokenLifetimeSeconds: 1,
      defaultUpload: [{ pendingMs: 1500, outcome: 'ready' }],
      clients: [{ clientId: CLIENT, clientSecret: SECRET, federated: [{ subject: SUBJECT }] }]
    })
    const accessToken = e.issueToken({ lifetimeSeconds: 3600 })
    const credentials: Record<string, string> =
      kind === 'static'
        ? { tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET, accessToken }
        : kind === 'secret'
          ? { tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET }
          : { tenantId: TENANT, clientId: CLIENT }
    const env = {
      ...RUN_CONTEXT,
      ACTIONS_ID_TOKEN_REQUEST_URL: e.githubOidc.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: e.githubOidc.requestToken
    }
    const result = await runAction({ inputs: inputs(e, credentials, { pollIntervalSeconds: '0.2' }), env })
    expect(result.code).toBe(0)
    const secrets = [
      ...(kind === 'oidc' ? [] : [SECRET]),
      ...(kind === 'static' ? [accessToken] : []),
      ...graphTokens(e),
      ...e.githubOidc.issued
    ]
    expect(secrets.length).toBeGreaterThan(kind === 'static' ? 1 : 2)
    // The runner hides masked values; what the action itself printed must not contain them anywhere else.
    const masked = result.stdout
      .split('\n')
      .filter(line => line.startsWith('::add-mask::'))
      .map(line => line.slice('::add-mask::'.length))
    const printed =
      result.stdout
        .split('\n')
        .filter(line => !line.startsWith('::add-mask::'))
        .join('\n') + result.stderr
    for (const secret of secrets) {
      expect(masked).toContain(secret)
      expect(printed).not.toContain(secret)
      expect(JSON.stringify(result.outputs)).not.toContain(secret)
      expect(result.summary).not.toContain(secret)
    }
  })
})
