import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from '@jest/globals'
import { SERVED_ARM_ROUTES } from '../emulator/arm-routes.js'
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js'

const SOURCE =
  '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev'
const OTHER_SOURCE =
  '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-next'
const VE = '/deviceManagement/virtualEndpoint'
const IMAGES = `/beta${VE}/deviceImages`
const PREFER = 'include-unknown-enum-members'

/** A clock the tests move by hand, so time-driven states need no real waiting. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = Date.parse('2026-03-01T08:00:00Z')
  return { now: () => t, advance: ms => (t += ms) }
}

let emu: Emulator | undefined

afterEach(async () => {
  await emu?.close()
  emu = undefined
})

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emu = await startEmulator(options)
  return emu
}

interface Answer {
  status: number
  headers: Headers
  text: string
  // Graph bodies are free-form JSON; tests index into them directly.
  json: any
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

interface CallOptions {
  body?: unknown
  headers?: Record<string, string>
  /** null sends no Authorization header. */
  token?: string | null
  prefer?: boolean
  signal?: AbortSignal
}

async function call(e: Emulator, method: string, path: string, o: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers }
  const token = o.token === undefined ? e.issueToken() : o.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (o.prefer !== false) headers.prefer = PREFER
  if (o.body !== undefined) headers['content-type'] = 'application/json'
  const url = path.startsWith('http') ? path : `${e.url}${path}`
  const body = o.body === undefined ? undefined : JSON.stringify(o.body)
  return answer(await fetch(url, { method, headers, body, signal: o.signal }))
}

async function token(e: Emulator, tenant: string, fields: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${e.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields)
  })
  return answer(res)
}

function create(e: Emulator, displayName = 'Win11-Dev', version = '1.0.0', source = SOURCE): Promise<Answer> {
  return call(e, 'POST', IMAGES, { body: { displayName, version, sourceImageResourceId: source } })
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function jwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>
}

describe('token endpoint', () => {
  test('issues a JWT-shaped bearer token that Graph routes accept', async () => {
    const e = await start({ tokenLifetimeSeconds: 1800 })
    const res = await token(e, 'contoso.example', {
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_secret: 'secret',
      scope: `${e.url}/.default`
    })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 1800, ext_expires_in: 1800 })
    const payload = jwtPayload(res.json.access_token)
    expect(payload).toMatchObject({ aud: e.url, tid: 'contoso.example', appid: 'app-1' })
    expect((payload.exp as number) - (payload.iat as number)).toBe(1800)
    expect((await call(e, 'GET', IMAGES, { token: res.json.access_token })).status).toBe(200)
  })

  test('rejects a scope without /.default and a request without credentials', async () => {
    const e = await start()
    const badScope = await token(e, 't', { grant_type: 'client_credentials', client_id: 'a', client_secret: 's', scope: e.url })
    expect(badScope.status).toBe(400)
    expect(badScope.json).toMatchObject({ error: 'invalid_scope', error_codes: [70011] })
    expect(badScope.json.error_description).toMatch(/^AADSTS70011: /)
    for (const key of ['timestamp', 'trace_id', 'correlation_id']) expect(typeof badScope.json[key]).toBe('string')
    const noCredential = await token(e, 't', { grant_type: 'client_credentials', client_id: 'a', scope: `${e.url}/.default` })
    expect(noCredential.json.error).toBe('invalid_client')
  })

  test('checks registered clients: unknown app, wrong secret, wrong and right assertion', async () => {
    const e = await start({
      clients: [
        { clientId: 'app-secret', tenantId: 'tenant-a', clientSecret: 'right' },
        { clientId: 'app-oidc', assertion: 'gh-oidc-token' }
      ]
    })
    const base = { grant_type: 'client_credentials', scope: `${e.url}/.default` }
    const unknown = await token(e, 'tenant-b', { ...base, client_id: 'app-secret', client_secret: 'right' })
    expect(unknown.status).toBe(400)
    expect(unknown.json.error).toBe('unauthorized_client')
    expect(unknown.json.error_description).toContain(
      "AADSTS700016: Application with identifier 'app-secret' was not found in the directory 'tenant-b'"
    )
    const wrongSecret = await token(e, 'tenant-a', { ...base, client_id: 'app-secret', client_secret: 'wrong' })
    expect(wrongSecret.status).toBe(401)
    expect(wrongSecret.json).toMatchObject({ error: 'invalid_client', error_codes: [7000215] })
    const assertion = { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }
    const wrongAssertion = await token(e, 'any', { ...base, ...assertion, client_id: 'app-oidc', client_assertion: 'stale' })
    expect(wrongAssertion.status).toBe(400)
    expect(wrongAssertion.json).toMatchObject({ error: 'invalid_client', error_codes: [70021] })
    expect(
      (await token(e, 'any', { ...base, ...assertion, client_id: 'app-oidc', client_assertion: 'gh-oidc-token' })).status
    ).toBe(200)
    expect((await token(e, 'tenant-a', { ...base, client_id: 'app-secret', client_secret: 'right' })).status).toBe(200)
  })
})

describe('Graph authentication', () => {
  test('refuses missing, unknown, expired and revoked tokens', async () => {
    const clock = manualClock()
    const e = await start({ now: clock.now, tokenLifetimeSeconds: 60 })
    const missing = await call(e, 'GET', IMAGES, { token: null })
    expect(missing.status).toBe(401)
    expect(missing.json.error.code).toBe('invalidAuthenticationToken')
    expect((await call(e, 'GET', IMAGES, { token: 'a.b.c' })).json.error.message).toMatch(/invalid/)

    const short = e.issueToken()
    const long = e.issueToken({ lifetimeSeconds: 600 })
    clock.advance(60_000)
    const expired = await call(e, 'GET', IMAGES, { token: short })
    expect(expired.status).toBe(401)
    expect(expired.json.error.message).toMatch(/expired/)
    expect((await call(e, 'GET', IMAGES, { token: long })).status).toBe(200)

    e.revokeTokens()
    expect((await call(e, 'GET', IMAGES, { token: long })).status).toBe(401)
    expect((await call(e, 'GET', IMAGES, { token: e.issueToken() })).status).toBe(200)
  })
})

describe('device image uploads', () => {
  test('create answers 201 pending, then the image turns ready as time passes', async () => {
    const clock = manualClock()
    const e = await start({ now: clock.now, defaultUpload: [{ pendingMs: 1000, outcome: 'ready' }] })
    const created = await create(e)
    expect(created.status).toBe(201)
    expect(created.json['@odata.context']).toBe(`${e.url}/beta/$metadata#deviceManagement/virtualEndpoint/deviceImages/$entity`)
    expect(created.json).toMatchObject({
      status: 'pending',
      errorCode: null,
      operatingSystem: null,
      osStatus: null,
      expirationDate: null
    })
    const id = created.json.id as string

    clock.advance(999)
    expect((await call(e, 'GET', `${IMAGES}/${id}`)).json.status).toBe('pending')
    clock.advance(1)
    const ready = await call(e, 'GET', `${IMAGES}/${id}`)
    expect(ready.json).toMatchObject({
      status: 'ready',
      errorCode: null,
      operatingSystem: 'Windows 11 Enterprise',
      osBuildNumber: '24H2',
      osVersionNumber: '10.0.26100.2033',
      sizeInGB: 64,
      osStatus: 'supported',
      expirationDate: '2028-03-01',
      lastModifiedDateTime: new Date(clock.now()).toISOString()
    })
    expect(e.images()).toEqual([expect.objectContaining({ id, status: 'ready' })])
  })

  test('the create response can carry OS fields already (beta example)', async () => {
    const e = await start({ knobs: { createResponseOsFields: 'filled' } })
    const created = await create(e)
    expect(created.json).toMatchObject({ status: 'pending', osStatus: 'supported', operatingSystem: 'Windows 11 Enterprise' })
    expect(created.json.expirationDate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
  })

  test('a failed upload is retried with retryUpload and then turns ready', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      uploadScripts: [
        {
          match: { displayName: 'win11-dev' },
          attempts: [
            { pendingMs: 100, outcome: 'failed', errorCode: 'internalServerError' },
            { pendingMs: 300, outcome: 'ready' }
          ]
        }
      ]
    })
    const id = (await create(e)).json.id as string
    clock.advance(100)
    expect((await call(e, 'GET', `${IMAGES}/${id}`)).json).toMatchObject({ status: 'failed', errorCode: 'internalServerError' })

    const onV1 = await call(e, 'POST', `/v1.0${VE}/deviceImages/${id}/retryUpload`)
    expect([onV1.status, onV1.json.error.code, onV1.json.error.message]).toEqual([
      400,
      'badRequest',
      "Resource not found for the segment 'retryUpload'."
    ])
    expect((await call(e, 'POST', `${IMAGES}/${id}/retryUpload`)).status).toBe(204)
    expect((await call(e, 'GET', `${IMAGES}/${id}`)).json).toMatchObject({ status: 'pending', errorCode: null })
    clock.advance(300)
    expect((await call(e, 'GET', `${IMAGES}/${id}`)).json.status).toBe('ready')

    const notFailed = await call(e, 'POST', `${IMAGES}/${id}/retryUpload`)
    expect(notFailed.status).toBe(400)
    expect(notFailed.json.error.code).toBe('badRequest')
    e.setKnobs({ retryOnNonFailed: 'accept' })
    expect((await call(e, 'POST', `${IMAGES}/${id}/retryUpload`)).status).toBe(204)
    expect(e.images()[0].status).toBe('pending')
    e.setKnobs({ retryUpload: 405 })
    expect((await call(e, 'POST', `${IMAGES}/${id}/retryUpload`)).status).toBe(405)
    e.setKnobs({ retryUpload: 'unknownSegment' })
    const unknown = await call(e, 'POST', `${IMAGES}/${id}/retryUpload`)
    expect([unknown.status, unknown.json.error.message]).toEqual([400, "Resource not found for the segment 'retryUpload'."])
  })

  test('reupload follows its knob: unknown segment by default, retired 400, a no-op or working', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      images: [
        {
          id: 'img-1',
          displayName: 'Old',
          version: '1.0.0',
          sourceImageResourceId: SOURCE,
          status: 'failed',
          errorCode: 'internalServerError'
        }
      ],
      defaultUpload: [{ pendingMs: 50, outcome: 'ready' }]
    })
    const reupload = `${IMAGES}/img-1/reupload`
    const unknown = await call(e, 'POST', reupload)
    expect(unknown.status).toBe(400)
    expect(unknown.json.error).toMatchObject({ code: 'badRequest', message: "Resource not found for the segment 'reupload'." })
    e.setKnobs({ reupload: 'retired400' })
    const retired = await call(e, 'POST', reupload)
    expect([retired.status, retired.json.error.message]).toEqual([400, expect.stringMatching(/no longer supported/)])
    e.setKnobs({ reupload: 'noop' })
    expect((await call(e, 'POST', reupload)).status).toBe(204)
    expect(e.images()[0].status).toBe('failed')
    e.setKnobs({ reupload: 'working' })
    expect((await call(e, 'POST', reupload)).status).toBe(204)
    expect(e.images()[0].status).toBe('pending')
    clock.advance(50)
    expect(e.images()[0].status).toBe('ready')
  })

  test('staleReadsAfterRetryMs: reads show the failure from before the retry, then the new upload', async () => {
    const clock = manualClock()
    const failedAt = '2026-03-01T07:00:00.000Z'
    const e = await start({
      now: clock.now,
      images: [
        {
          id: 'img-1',
          displayName: 'Old',
          version: '1.0.0',
          sourceImageResourceId: SOURCE,
          status: 'failed',
          errorCode: 'internalServerError',
          lastModifiedDateTime: failedAt
        }
      ],
      defaultUpload: [{ pendingMs: 1000, outcome: 'ready' }],
      knobs: { staleReadsAfterRetryMs: 300 }
    })
    const before = { status: 'failed', errorCode: 'internalServerError', lastModifiedDateTime: failedAt }
    const retriedAt = new Date(clock.now()).toISOString()
    expect((await call(e, 'POST', `${IMAGES}/img-1/retryUpload`)).status).toBe(204)
    clock.advance(299)
    expect((await call(e, 'GET', `${IMAGES}/img-1`)).json).toMatchObject(before)
    expect((await call(e, 'GET', IMAGES)).json.value[0]).toMatchObject(before)
    expect(e.images()[0]).toMatchObject(before)
    // The upload runs meanwhile, so a second retry meets a running upload.
    const second = await call(e, 'POST', `${IMAGES}/img-1/retryUpload`)
    expect([second.status, second.json.error.message]).toEqual([400, expect.stringContaining('is pending')])
    clock.advance(1)
    const after = (await call(e, 'GET', `${IMAGES}/img-1`)).json
    expect(after).toMatchObject({ status: 'pending', errorCode: null })
    expect(Date.parse(after.lastModifiedDateTime)).toBeGreaterThanOrEqual(Date.parse(retriedAt))
    expect(e.requests.filter(r => r.route === 'deviceImages.retryUpload').map(r => r.status)).toEqual([204, 400])
  })

  test('without a stale window the retried image reads pending at once', async () => {
    const e = await start({
      images: [
        {
          id: 'img-1',
          displayName: 'Old',
          version: '1.0.0',
          sourceImageResourceId: SOURCE,
          status: 'failed',
          errorCode: 'internalServerError'
        }
      ]
    })
    expect((await call(e, 'POST', `${IMAGES}/img-1/retryUpload`)).status).toBe(204)
    expect((await call(e, 'GET', `${IMAGES}/img-1`)).json.status).toBe('pending')
  })

  test('seed attempts, scripts added later and flip drive the state', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      images: [
        {
          id: 'scripted',
          displayName: 'S',
          version: '1.0.0',
          sourceImageResourceId: SOURCE,
          attempts: [{ pendingMs: 10, outcome: 'warning' }]
        },
        {
          id: 'settled',
          displayName: 'T',
          version: '1.0.0',
          sourceImageResourceId: SOURCE,
          status: 'failed',
          errorCode: 'sourceImageInvalid'
        }
      ]
    })
    e.addUploadScript({
      match: { displayName: 'T' },
      attempts: [
        { pendingMs: 0, outcome: 'failed' },
        { pendingMs: 5, outcome: 'ready' }
      ]
    })
    expect(e.images().map(i => i.status)).toEqual(['pending', 'failed'])
    clock.advance(10)
    expect(e.images()[0].status).toBe('warning')
    await call(e, 'POST', `${IMAGES}/settled/retryUpload`)
    clock.advance(5)
    expect(e.images()[1].status).toBe('ready')
    e.flip('settled', 'failed', 'sourceImageNotGeneralized')
    expect(e.images()[1]).toMatchObject({ status: 'failed', errorCode: 'sourceImageNotGeneralized', osStatus: null })
    expect(() => e.flip('missing', 'ready')).toThrow(/missing/)
  })
})

describe('collections', () => {
  const seeded = (n: number): EmulatorOptions['images'] =>
    Array.from({ length: n }, (_, i) => ({
      id: `img-${i}`,
      displayName: `Image ${i}`,
      version: '1.0.0',
      sourceImageResourceId: SOURCE
    }))

  test('pages with an absolute @odata.nextLink that keeps $select', async () => {
    const e = await start({ images: seeded(5) })
    const ids: string[] = []
    let next: string | undefined = `${IMAGES}?$select=status`
    let pages = 0
    while (next !== undefined) {
      const page = await call(e, 'GET', next)
      expect(page.status).toBe(200)
      for (const item of page.json.value) {
        expect(Object.keys(item)).toEqual(['id', 'status'])
        ids.push(item.id)
      }
      next = page.json['@odata.nextLink']
      if (next !== undefined) expect(next).toMatch(new RegExp(`^${e.url}/beta/.*\\$select=status&\\$skiptoken=`))
      pages += 1
    }
    expect(pages).toBe(3)
    expect(ids).toEqual(['img-0', 'img-1', 'img-2', 'img-3', 'img-4'])
    expect((await call(e, 'GET', `${IMAGES}?$skiptoken=garbage`)).status).toBe(400)
  })

  test('$filter supports displayName eq/contains and rejects the rest or everything per knob', async () => {
    const e = await start({
      images: [...(seeded(3) ?? []), { displayName: "O'Brien", version: '2.0.0', sourceImageResourceId: SOURCE }],
      knobs: { imagePageSize: 10 }
    })
    const names = async (filter: string): Promise<string[]> =>
      (await call(e, 'GET', `${IMAGES}?$filter=${encodeURIComponent(filter)}`)).json.value.map(
        (i: { displayName: string }) => i.displayName
      )
    expect(await names("displayName eq 'image 1'")).toEqual(['Image 1'])
    expect(await names("contains(displayName,'IMAGE')")).toEqual(['Image 0', 'Image 1', 'Image 2'])
    expect(await names("displayName eq 'O''Brien'")).toEqual(["O'Brien"])
    expect((await call(e, 'GET', `${IMAGES}?$filter=${encodeURIComponent("version eq '1.0.0'")}`)).status).toBe(400)
    expect(
      (await call(e, 'GET', `/beta${VE}/provisioningPolicies?$filter=${encodeURIComponent("displayName eq 'x'")}`)).status
    ).toBe(400)
    e.setKnobs({ filter: 'reject' })
    const rejected = await call(e, 'GET', `${IMAGES}?$filter=${encodeURIComponent("displayName eq 'Image 1'")}`)
    expect(rejected.status).toBe(400)
    expect(rejected.json.error.code).toBe('badRequest')
  })
})

describe('evolvable enums and the Prefer header', () => {
  const images: EmulatorOptions['images'] = [
    { id: 'w', displayName: 'W', version: '1', sourceImageResourceId: SOURCE, status: 'warning' },
    {
      id: 'd',
      displayName: 'D',
      version: '1',
      sourceImageResourceId: SOURCE,
      status: 'failed',
      errorCode: 'sourceImageWithDataDiskNotSupported'
    },
    {
      id: 'j',
      displayName: 'J',
      version: '1',
      sourceImageResourceId: SOURCE,
      status: 'failed',
      errorCode: 'vmAlreadyAzureAdJoined'
    },
    {
      id: 'g',
      displayName: 'G',
      version: '1',
      sourceImageResourceId: SOURCE,
      status: 'failed',
      errorCode: 'sourceImageNotGeneralized'
    }
  ]
  const read = async (e: Emulator, version: string, prefer: boolean): Promise<{ values: string[]; applied: string | null }> => {
    const res = await call(e, 'GET', `/${version}${VE}/deviceImages`, { prefer })
    return {
      values: res.json.value.map((i: { status: string; errorCode: string | null }) => i.errorCode ?? i.status),
      applied: res.headers.get('preference-applied')
    }
  }

  test('maps members after unknownFutureValue unless the caller opts in; v1.0 never shows beta-only members', async () => {
    const e = await start({ images, knobs: { imagePageSize: 10 } })
    expect(await read(e, 'beta', true)).toEqual({
      values: ['warning', 'sourceImageWithDataDiskNotSupported', 'vmAlreadyAzureAdjoined', 'sourceImageNotGeneralized'],
      applied: PREFER
    })
    expect(await read(e, 'beta', false)).toEqual({
      values: ['unknownFutureValue', 'unknownFutureValue', 'unknownFutureValue', 'sourceImageNotGeneralized'],
      applied: null
    })
    expect((await read(e, 'v1.0', true)).values).toEqual([
      'unknownFutureValue',
      'unknownFutureValue',
      'vmAlreadyAzureAdjoined',
      'sourceImageNotGeneralized'
    ])
  })

  test('knobs: no mapping without Prefer, no echo, prose spelling', async () => {
    const e = await start({
      images,
      knobs: {
        imagePageSize: 10,
        mapEvolvableWithoutPrefer: false,
        echoPreferenceApplied: false,
        vmAlreadyAzureAdjoinedSpelling: 'prose'
      }
    })
    expect((await read(e, 'beta', false)).values).toEqual([
      'warning',
      'sourceImageWithDataDiskNotSupported',
      'vmAlreadyAzureAdJoined',
      'sourceImageNotGeneralized'
    ])
    expect((await read(e, 'beta', true)).applied).toBeNull()
  })
})

describe('errors', () => {
  test('error bodies carry the ids and date of the response headers', async () => {
    const e = await start()
    const res = await call(e, 'GET', `${IMAGES}/nope`, { headers: { 'client-request-id': 'caller-id-1' } })
    expect(res.status).toBe(404)
    expect(res.headers.get('client-request-id')).toBe('caller-id-1')
    const requestId = res.headers.get('request-id')
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(Number.isNaN(Date.parse(res.headers.get('date') ?? ''))).toBe(false)
    expect(JSON.parse(res.headers.get('x-ms-ags-diagnostic') ?? '')).toHaveProperty('ServerInfo')
    expect(res.json.error).toEqual({
      code: 'itemNotFound',
      message: expect.stringContaining('nope'),
      innerError: { date: expect.stringMatching(/Z$/), 'request-id': requestId, 'client-request-id': 'caller-id-1' }
    })
    const generated = await call(e, 'GET', `${IMAGES}/nope`)
    expect(generated.headers.get('client-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(generated.json.error.innerError['client-request-id']).toBe(generated.headers.get('client-request-id'))
  })

  test('unknown segments answer 400 naming the first one Graph does not know; wrong methods; code casing', async () => {
    const e = await start({ knobs: { errorCodeCasing: 'pascal' } })
    const unknown = await call(e, 'GET', `/beta${VE}/somethingElse/more`)
    expect(unknown.status).toBe(400)
    expect(unknown.json.error).toMatchObject({
      code: 'BadRequest',
      message: "Resource not found for the segment 'somethingElse'."
    })
    const segmentOf = async (path: string): Promise<[number, string]> => {
      const res = await call(e, 'POST', path)
      return [res.status, res.json.error.message]
    }
    expect(await segmentOf(`${IMAGES}/img-1/rebuild`)).toEqual([400, "Resource not found for the segment 'rebuild'."])
    expect(await segmentOf(`/beta${VE}/cloudPCs/pc-1/reprovision/now`)).toEqual([
      400,
      "Resource not found for the segment 'now'."
    ])
    expect(await segmentOf('/beta/me')).toEqual([400, "Resource not found for the segment 'me'."])
    expect((await call(e, 'GET', `${IMAGES}/nope`)).json.error.code).toBe('ItemNotFound')
    expect((await call(e, 'PUT', IMAGES, { body: {} })).status).toBe(405)
    expect((await fetch(`${e.url}/elsewhere`)).status).toBe(404)
  })
})

describe('image knobs', () => {
  test('create validation, gallery IDs and unknown properties', async () => {
    const e = await start({ knobs: { galleryImageIds: 'reject' } })
    const missing = await call(e, 'POST', IMAGES, { body: { displayName: 'A', version: '1.0.0' } })
    expect(missing.status).toBe(400)
    expect(missing.json.error.code).toBe('badRequest')
    const gallery =
      '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0'
    expect((await create(e, 'A', '1.0.0', gallery)).status).toBe(400)
    expect((await create(e, 'A', '1.0.0', SOURCE.toLowerCase())).status).toBe(201)
    const extra = await call(e, 'POST', IMAGES, {
      body: { displayName: 'B', version: '1.0.0', sourceImageResourceId: SOURCE, colour: 'red' }
    })
    expect(extra.status).toBe(400)
    e.setKnobs({ galleryImageIds: 'accept', createValidationError: { status: 422, code: 'InvalidInput' } })
    expect((await create(e, 'G', '1.0.0', gallery)).status).toBe(201)
    const invalid = await create(
      e,
      'C',
      '1.0.0',
      '/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/images/x'
    )
    expect(invalid.status).toBe(422)
    expect(invalid.json.error.code).toBe('invalidInput')
  })

  test('a gallery image version ID is accepted by default', async () => {
    const e = await start()
    const gallery =
      '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0'
    const created = await create(e, 'G', '1.0.0', gallery)
    expect(created.status).toBe(201)
    expect(created.json.sourceImageResourceId).toBe(gallery)
  })

  test('duplicates are refused case-insensitively unless allowed', async () => {
    const e = await start()
    expect((await create(e, 'Win11-Dev', '1.0.0')).status).toBe(201)
    const duplicate = await create(e, 'WIN11-DEV', '1.0.0')
    expect(duplicate.status).toBe(409)
    expect(duplicate.json.error.code).toBe('conflict')
    expect((await create(e, 'Win11-Dev', '1.0.1')).status).toBe(201)
    e.setKnobs({ duplicateOnCreate: 'allow' })
    expect((await create(e, 'Win11-Dev', '1.0.0')).status).toBe(201)
    expect(e.images()).toHaveLength(3)
  })

  test('the image cap refuses one image too many', async () => {
    const e = await start({ knobs: { imageCap: 2 } })
    await create(e, 'A')
    await create(e, 'B')
    const third = await create(e, 'C')
    expect(third.status).toBe(400)
    expect(third.json.error.message).toContain('limit of 2 images')
    e.setKnobs({ imageCapError: { status: 403, code: 'QuotaExceeded' } })
    expect((await create(e, 'C')).status).toBe(403)
  })

  test('deleting an image in use names the policies', async () => {
    const e = await start({
      images: [
        { id: 'used', displayName: 'Used', version: '1.0.0', sourceImageResourceId: SOURCE },
        { id: 'free', displayName: 'Free', version: '1.0.0', sourceImageResourceId: SOURCE }
      ],
      policies: [{ id: 'pol-1', displayName: 'Developers', imageId: 'used' }]
    })
    const inUse = await call(e, 'DELETE', `${IMAGES}/used`)
    expect(inUse.status).toBe(409)
    expect(inUse.json.error.message).toContain("'Developers' (pol-1)")
    expect((await call(e, 'DELETE', `${IMAGES}/free`)).status).toBe(204)
    expect((await call(e, 'DELETE', `${IMAGES}/free`)).status).toBe(404)
    expect(e.images().map(i => i.id)).toEqual(['used'])
  })

  test('another administrator can point a policy at an image just before a chosen request', async () => {
    const e = await start({
      images: [{ id: 'free', displayName: 'Free', version: '1.0.0', sourceImageResourceId: SOURCE }],
      policies: [{ id: 'pol-1', displayName: 'Developers' }]
    })
    e.before({ method: 'DELETE' }, emu => emu.pointPolicy('pol-1', 'free'))
    expect((await call(e, 'GET', `${IMAGES}/free`)).status).toBe(200)
    expect(e.policies()[0].imageId).not.toBe('free')
    const refused = await call(e, 'DELETE', `${IMAGES}/free`)
    expect(refused.status).toBe(409)
    expect(e.policies()[0]).toMatchObject({ imageId: 'free', imageDisplayName: 'Free', imageType: 'custom' })
    // Once, and only for a matching request.
    let acted = 0
    e.before({ method: 'GET', path: /provisioningPolicies$/ }, () => void acted++)
    await call(e, 'GET', `${IMAGES}/free`)
    await call(e, 'GET', `/beta${VE}/provisioningPolicies`)
    await call(e, 'GET', `/beta${VE}/provisioningPolicies`)
    expect(acted).toBe(1)
    expect(() => e.pointPolicy('pol-1', 'nope')).toThrow("No policy 'pol-1' or image 'nope'")
  })

  test('image PATCH: 405 by default, 400 notAllowed, or accepted without restarting the upload', async () => {
    const e = await start({
      images: [
        {
          id: 'img',
          displayName: 'Img',
          version: '1.0.0',
          sourceImageResourceId: SOURCE,
          status: 'failed',
          errorCode: 'sourceImageNotFound'
        }
      ]
    })
    const patch = (body: unknown): Promise<Answer> => call(e, 'PATCH', `${IMAGES}/img`, { body })
    expect((await patch({ sourceImageResourceId: OTHER_SOURCE })).status).toBe(405)
    e.setKnobs({ imagePatch: 400 })
    expect((await patch({ sourceImageResourceId: OTHER_SOURCE })).json.error.code).toBe('notAllowed')
    e.setKnobs({ imagePatch: 'accept200' })
    const accepted = await patch({ sourceImageResourceId: OTHER_SOURCE, status: 'ready' })
    expect(accepted.status).toBe(200)
    expect(accepted.json).toMatchObject({
      id: 'img',
      sourceImageResourceId: OTHER_SOURCE,
      status: 'failed',
      errorCode: 'sourceImageNotFound'
    })
    e.setKnobs({ imagePatch: 'accept204' })
    const renamed = await patch({ displayName: 'Renamed', version: '1.0.1' })
    expect(renamed.status).toBe(204)
    expect(renamed.text).toBe('')
    expect(e.images()[0]).toMatchObject({ displayName: 'Renamed', version: '1.0.1', status: 'failed' })
    expect((await patch({ sourceImageResourceId: 'nonsense' })).status).toBe(400)
  })

  test('imagePatchStartsUpload: a PATCH with a new source starts an upload; other changes do not', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      images: [
        {
          id: 'img',
          displayName: 'Img',
          version: '1.0.0',
          sourceImageResourceId: SOURCE,
          status: 'failed',
          errorCode: 'sourceImageNotFound'
        }
      ],
      defaultUpload: [{ pendingMs: 100, outcome: 'ready' }],
      knobs: { imagePatch: 'accept200', imagePatchStartsUpload: true }
    })
    const patch = (body: unknown): Promise<Answer> => call(e, 'PATCH', `${IMAGES}/img`, { body })
    expect((await patch({ displayName: 'Renamed', sourceImageResourceId: SOURCE.toUpperCase() })).json.status).toBe('failed')
    const moved = await patch({ sourceImageResourceId: OTHER_SOURCE })
    expect(moved.json).toMatchObject({ status: 'pending', errorCode: null, sourceImageResourceId: OTHER_SOURCE })
    clock.advance(100)
    expect(e.images()[0]).toMatchObject({ status: 'ready', displayName: 'Renamed' })
  })
})

describe('provisioning policies and Cloud PCs', () => {
  test('policy PATCH updates the image fields; an unknown image follows the knob', async () => {
    const e = await start({
      images: [{ id: 'img-new', displayName: 'New', version: '2.0.0', sourceImageResourceId: SOURCE }],
      policies: [{ id: 'pol-1', displayName: 'Developers' }]
    })
    expect(e.policies()[0]).toMatchObject({ imageType: 'gallery' })
    const path = `/beta${VE}/provisioningPolicies/pol-1`
    const patched = await call(e, 'PATCH', path, {
      body: { imageId: 'img-new', imageDisplayName: 'New 2.0.0', imageType: 'custom' }
    })
    expect(patched.status).toBe(204)
    expect((await call(e, 'GET', path)).json).toMatchObject({
      imageId: 'img-new',
      imageDisplayName: 'New 2.0.0',
      imageType: 'custom'
    })
    expect((await call(e, 'GET', `/beta${VE}/provisioningPolicies`)).json.value).toHaveLength(1)
    expect((await call(e, 'PATCH', path, { body: { imageId: 'ghost', imageType: 'custom' } })).status).toBe(400)
    e.setKnobs({ policyPatchUnknownImage: 'accept' })
    expect((await call(e, 'PATCH', path, { body: { imageId: 'ghost', imageType: 'custom' } })).status).toBe(204)
    expect((await call(e, 'PATCH', `/beta${VE}/provisioningPolicies/none`, { body: {} })).status).toBe(404)
  })

  test('Cloud PCs list by policy with paging, and reprovision runs for reprovisionMs', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      policies: [
        { id: 'pol-a', displayName: 'A' },
        { id: 'pol-b', displayName: 'B' }
      ],
      cloudPcs: [
        { id: 'pc-1', displayName: 'PC 1', provisioningPolicyId: 'pol-a' },
        { id: 'pc-2', displayName: 'PC 2', provisioningPolicyId: 'pol-b' },
        { id: 'pc-3', displayName: 'PC 3', provisioningPolicyId: 'pol-a' },
        { id: 'pc-4', displayName: 'PC 4', provisioningPolicyId: 'pol-a' }
      ],
      knobs: { cloudPcPageSize: 2, reprovisionMs: 500 }
    })
    const first = await call(e, 'GET', `/beta${VE}/cloudPCs?$filter=${encodeURIComponent("provisioningPolicyId eq 'pol-a'")}`)
    expect(first.json.value.map((pc: { id: string }) => pc.id)).toEqual(['pc-1', 'pc-3'])
    const second = await call(e, 'GET', first.json['@odata.nextLink'])
    expect(second.json.value.map((pc: { id: string }) => pc.id)).toEqual(['pc-4'])
    expect(second.json['@odata.nextLink']).toBeUndefined()
    expect((await call(e, 'GET', `/v1.0${VE}/cloudPCs`)).json.value[0]).not.toHaveProperty('status')

    expect((await call(e, 'POST', `/beta${VE}/cloudPCs/pc-1/reprovision`)).status).toBe(204)
    expect((await call(e, 'GET', `/beta${VE}/cloudPCs/pc-1`)).json.status).toBe('provisioning')
    clock.advance(500)
    expect(e.cloudPcs()[0]).toMatchObject({ id: 'pc-1', status: 'provisioned', provisioningPolicyName: 'A' })
    expect(e.reprovisionCount('pc-1')).toBe(1)
    expect(e.reprovisionCount('pc-2')).toBe(0)
    expect((await call(e, 'POST', `/beta${VE}/cloudPCs/pc-9/reprovision`)).status).toBe(404)
  })

  test('beta Cloud PCs show a reprovision through status, lastRemoteActionResult and provisionedDateTime', async () => {
    const clock = manualClock()
    const startedAt = new Date(clock.now()).toISOString()
    const seeded = '2025-11-02T10:00:00.000Z'
    const e = await start({
      now: clock.now,
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [
        { id: 'pc-1', displayName: 'PC 1', provisioningPolicyId: 'pol-a', provisionedDateTime: seeded },
        { id: 'pc-2', displayName: 'PC 2', provisioningPolicyId: 'pol-a' }
      ],
      knobs: { reprovisionMs: 500 }
    })
    const get = async (version: string, id = 'pc-1') => (await call(e, 'GET', `/${version}${VE}/cloudPCs/${id}`)).json
    expect(await get('beta')).toMatchObject({ status: 'provisioned', provisionedDateTime: seeded, lastRemoteActionResult: null })
    expect((await get('beta', 'pc-2')).provisionedDateTime).toBe(startedAt)

    clock.advance(1000)
    const requestedAt = new Date(clock.now()).toISOString()
    expect((await call(e, 'POST', `/beta${VE}/cloudPCs/pc-1/reprovision`)).status).toBe(204)
    clock.advance(499)
    expect(await get('beta')).toMatchObject({
      status: 'provisioning',
      provisionedDateTime: seeded,
      lastRemoteActionResult: {
        actionName: 'reprovision',
        actionState: 'active',
        startDateTime: requestedAt,
        lastUpdatedDateTime: requestedAt,
        statusDetail: null
      }
    })
    clock.advance(1)
    const endedAt = new Date(clock.now()).toISOString()
    expect(await get('beta')).toMatchObject({
      status: 'provisioned',
      provisionedDateTime: endedAt,
      lastRemoteActionResult: {
        actionName: 'reprovision',
        actionState: 'done',
        startDateTime: requestedAt,
        lastUpdatedDateTime: endedAt
      }
    })
    const listed = (await call(e, 'GET', `/beta${VE}/cloudPCs?$select=id,lastRemoteActionResult,provisionedDateTime`)).json.value
    expect(listed[0]).toEqual({
      id: 'pc-1',
      provisionedDateTime: endedAt,
      lastRemoteActionResult: expect.objectContaining({ actionState: 'done' })
    })

    const v1 = await get('v1.0')
    for (const beta of ['status', 'provisionedDateTime', 'lastRemoteActionResult']) expect(v1).not.toHaveProperty(beta)

    // A second reprovision keeps the first one's end as the last provisioning until it ends itself.
    clock.advance(100)
    await call(e, 'POST', `/beta${VE}/cloudPCs/pc-1/reprovision`)
    expect(await get('beta')).toMatchObject({ status: 'provisioning', provisionedDateTime: endedAt })
  })

  test('cloudPcStatus members after unknownFutureValue need the Prefer header', async () => {
    const e = await start({
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [
        { id: 'pc-1', displayName: 'PC 1', provisioningPolicyId: 'pol-a', status: 'failoverInProgress' },
        { id: 'pc-2', displayName: 'PC 2', provisioningPolicyId: 'pol-a', status: 'inGracePeriod' }
      ]
    })
    const statuses = async (prefer: boolean): Promise<string[]> =>
      (await call(e, 'GET', `/beta${VE}/cloudPCs`, { prefer })).json.value.map((pc: { status: string }) => pc.status)
    expect(await statuses(true)).toEqual(['failoverInProgress', 'inGracePeriod'])
    expect(await statuses(false)).toEqual(['unknownFutureValue', 'inGracePeriod'])
  })
})

describe('reprovision outcomes, eligibility and reads', () => {
  const PCS = `/beta${VE}/cloudPCs`
  const iso = (ms: number): string => new Date(ms).toISOString()
  const seeded = '2025-11-02T10:00:00.000Z'
  const reprovisionOf = (e: Emulator, id: string): Promise<Answer> => call(e, 'POST', `${PCS}/${id}/reprovision`)
  const read = async (e: Emulator, id: string) => (await call(e, 'GET', `${PCS}/${id}`)).json
  const listed = async (e: Emulator, id: string) =>
    (await call(e, 'GET', PCS)).json.value.find((pc: { id: string }) => pc.id === id)

  test('a rebuild scripted to fail: provisioning until its own duration ends, then failed with a statusDetail', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [
        {
          id: 'pc-1',
          displayName: 'PC 1',
          provisioningPolicyId: 'pol-a',
          provisionedDateTime: seeded,
          reprovision: { durationMs: 300, outcome: 'failed' }
        },
        { id: 'pc-2', displayName: 'PC 2', provisioningPolicyId: 'pol-a' }
      ],
      knobs: { reprovisionMs: 500 }
    })
    clock.advance(1000)
    const requestedAt = clock.now()
    expect((await reprovisionOf(e, 'pc-1')).status).toBe(204)
    expect((await reprovisionOf(e, 'pc-2')).status).toBe(204)
    clock.advance(299)
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'provisioning',
      provisionedDateTime: seeded,
      lastModifiedDateTime: iso(requestedAt),
      lastRemoteActionResult: {
        actionName: 'reprovision',
        actionState: 'active',
        startDateTime: iso(requestedAt),
        lastUpdatedDateTime: iso(requestedAt),
        statusDetail: null
      }
    })
    clock.advance(1)
    const endedAt = requestedAt + 300
    const failed = {
      status: 'failed',
      provisionedDateTime: seeded,
      lastModifiedDateTime: iso(endedAt),
      lastRemoteActionResult: {
        actionName: 'reprovision',
        actionState: 'failed',
        startDateTime: iso(requestedAt),
        lastUpdatedDateTime: iso(endedAt),
        statusDetail: {
          code: 'internalServerError',
          message: expect.stringContaining('reprovision of the Cloud PC failed'),
          additionalInformation: []
        }
      }
    }
    expect(await read(e, 'pc-1')).toMatchObject(failed)
    expect(await listed(e, 'pc-1')).toMatchObject(failed)
    expect(e.cloudPcs()[0]).toMatchObject(failed)
    // The other Cloud PC runs for the knob's 500 ms and ends provisioned.
    expect(await read(e, 'pc-2')).toMatchObject({ status: 'provisioning', lastRemoteActionResult: { actionState: 'active' } })
    clock.advance(200)
    expect(await read(e, 'pc-2')).toMatchObject({
      status: 'provisioned',
      provisionedDateTime: iso(requestedAt + 500),
      lastRemoteActionResult: { actionState: 'done', lastUpdatedDateTime: iso(requestedAt + 500), statusDetail: null }
    })

    // A failed Cloud PC may be reprovisioned again, and the script applies to every rebuild.
    const againAt = clock.now()
    expect((await reprovisionOf(e, 'pc-1')).status).toBe(204)
    clock.advance(300)
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'failed',
      provisionedDateTime: seeded,
      lastRemoteActionResult: { actionState: 'failed', startDateTime: iso(againAt), lastUpdatedDateTime: iso(againAt + 300) }
    })
    expect(e.reprovisionCount('pc-1')).toBe(2)
  })

  test('scriptReprovision changes the next rebuilds at run time, not the one running', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [
        {
          id: 'pc-1',
          displayName: 'PC 1',
          provisioningPolicyId: 'pol-a',
          provisionedDateTime: seeded,
          reprovision: { durationMs: 50, outcome: 'failed' }
        }
      ],
      knobs: { reprovisionMs: 400 }
    })
    // Omitted fields take the defaults: the knob's duration, and provisioned.
    e.scriptReprovision('pc-1', { outcome: 'provisioned' })
    const first = clock.now()
    await reprovisionOf(e, 'pc-1')
    clock.advance(100)
    e.scriptReprovision('pc-1', { durationMs: 30, outcome: 'failed' })
    clock.advance(299)
    expect((await read(e, 'pc-1')).status).toBe('provisioning')
    clock.advance(1)
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'provisioned',
      provisionedDateTime: iso(first + 400),
      lastRemoteActionResult: { actionState: 'done', statusDetail: null }
    })

    const second = clock.now()
    await reprovisionOf(e, 'pc-1')
    clock.advance(29)
    expect((await read(e, 'pc-1')).status).toBe('provisioning')
    clock.advance(1)
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'failed',
      provisionedDateTime: iso(first + 400),
      lastRemoteActionResult: { actionState: 'failed', lastUpdatedDateTime: iso(second + 30) }
    })
    expect(() => e.scriptReprovision('pc-9', { outcome: 'failed' })).toThrow('pc-9')
  })

  test('a Cloud PC provisioned with warnings ends provisioned after a successful rebuild', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [{ id: 'pc-1', displayName: 'PC 1', provisioningPolicyId: 'pol-a', status: 'provisionedWithWarnings' }],
      knobs: { reprovisionMs: 100 }
    })
    expect((await read(e, 'pc-1')).status).toBe('provisionedWithWarnings')
    expect((await reprovisionOf(e, 'pc-1')).status).toBe(204)
    clock.advance(100)
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'provisioned',
      provisionedDateTime: iso(clock.now()),
      lastRemoteActionResult: { actionState: 'done' }
    })
  })

  test('only provisioned, provisionedWithWarnings and failed Cloud PCs are reprovisioned; the refusal follows its knobs', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [
        { id: 'pc-grace', displayName: 'Grace', provisioningPolicyId: 'pol-a', status: 'inGracePeriod' },
        { id: 'pc-gone', displayName: 'Gone', provisioningPolicyId: 'pol-a', status: 'deprovisioning' },
        { id: 'pc-busy', displayName: 'Busy', provisioningPolicyId: 'pol-a' },
        { id: 'pc-failed', displayName: 'Failed', provisioningPolicyId: 'pol-a', status: 'failed' }
      ],
      knobs: { reprovisionMs: 500 }
    })
    expect((await reprovisionOf(e, 'pc-busy')).status).toBe(204)
    clock.advance(100)
    for (const [id, status] of [
      ['pc-grace', 'inGracePeriod'],
      ['pc-gone', 'deprovisioning'],
      ['pc-busy', 'provisioning']
    ]) {
      const refused = await reprovisionOf(e, id)
      expect([id, refused.status]).toEqual([id, 400])
      expect(refused.json.error).toEqual({
        code: 'badRequest',
        message: `The Cloud PC '${id}' is ${status}; a Cloud PC must have a status of Failed or Provisioned to be reprovisioned.`,
        innerError: {
          date: expect.stringMatching(/Z$/),
          'request-id': refused.headers.get('request-id'),
          'client-request-id': refused.headers.get('client-request-id')
        }
      })
    }
    expect([e.reprovisionCount('pc-grace'), e.reprovisionCount('pc-gone'), e.reprovisionCount('pc-busy')]).toEqual([0, 0, 1])
    expect((await read(e, 'pc-grace')).status).toBe('inGracePeriod')
    expect((await reprovisionOf(e, 'pc-failed')).status).toBe(204)
    expect(e.reprovisionCount('pc-failed')).toBe(1)

    e.setKnobs({ reprovisionIneligibleError: { status: 409, code: 'Conflict' } })
    const conflict = await reprovisionOf(e, 'pc-gone')
    expect([conflict.status, conflict.json.error.code]).toEqual([409, 'conflict'])

    // 'ignore' answers 204 and changes nothing, not even the rebuild under way.
    e.setKnobs({ reprovisionIneligible: 'ignore' })
    const before = await Promise.all(['pc-grace', 'pc-gone', 'pc-busy'].map(id => read(e, id)))
    for (const id of ['pc-grace', 'pc-gone', 'pc-busy']) expect([id, (await reprovisionOf(e, id)).status]).toEqual([id, 204])
    expect(await Promise.all(['pc-grace', 'pc-gone', 'pc-busy'].map(id => read(e, id)))).toEqual(before)
    expect([e.reprovisionCount('pc-grace'), e.reprovisionCount('pc-gone'), e.reprovisionCount('pc-busy')]).toEqual([0, 0, 1])
    clock.advance(400)
    expect(await read(e, 'pc-busy')).toMatchObject({
      status: 'provisioned',
      lastRemoteActionResult: { lastUpdatedDateTime: iso(clock.now()) }
    })
  })

  test('reprovisionVisibleAfterMs: reads show the Cloud PC as before the request, then the rebuild', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [
        { id: 'pc-1', displayName: 'PC 1', provisioningPolicyId: 'pol-a', provisionedDateTime: seeded },
        {
          id: 'pc-2',
          displayName: 'PC 2',
          provisioningPolicyId: 'pol-a',
          provisionedDateTime: seeded,
          reprovision: { durationMs: 100 }
        }
      ],
      knobs: { reprovisionMs: 500, reprovisionVisibleAfterMs: 200 }
    })
    clock.advance(1000)
    const before = await read(e, 'pc-1')
    const beforeListed = await listed(e, 'pc-1')
    expect(before).toMatchObject({ status: 'provisioned', provisionedDateTime: seeded, lastRemoteActionResult: null })
    const requestedAt = clock.now()
    expect((await reprovisionOf(e, 'pc-1')).status).toBe(204)
    expect(e.reprovisionCount('pc-1')).toBe(1)
    expect(await read(e, 'pc-1')).toEqual(before)
    clock.advance(199)
    expect(await read(e, 'pc-1')).toEqual(before)
    expect(await listed(e, 'pc-1')).toEqual(beforeListed)
    expect(e.cloudPcs()[0]).toMatchObject({ status: 'provisioned', lastRemoteActionResult: null })
    expect((await call(e, 'GET', `/v1.0${VE}/cloudPCs/pc-1`)).json.lastModifiedDateTime).toBe(before.lastModifiedDateTime)
    // The service knows the Cloud PC is rebuilding, whatever reads show.
    expect((await reprovisionOf(e, 'pc-1')).status).toBe(400)
    expect(e.reprovisionCount('pc-1')).toBe(1)
    clock.advance(1)
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'provisioning',
      provisionedDateTime: seeded,
      lastModifiedDateTime: iso(requestedAt),
      lastRemoteActionResult: { actionState: 'active', startDateTime: iso(requestedAt) }
    })
    clock.advance(300)
    expect(await read(e, 'pc-1')).toMatchObject({ status: 'provisioned', provisionedDateTime: iso(requestedAt + 500) })

    // A rebuild shorter than the lag: a second one asked while reads still hide the first keeps
    // reads on what they showed, the state before both.
    const hidden = await read(e, 'pc-2')
    const firstAt = clock.now()
    await reprovisionOf(e, 'pc-2')
    clock.advance(150)
    expect(await read(e, 'pc-2')).toEqual(hidden)
    expect((await reprovisionOf(e, 'pc-2')).status).toBe(204)
    clock.advance(199)
    expect(await read(e, 'pc-2')).toEqual(hidden)
    clock.advance(1)
    expect(await read(e, 'pc-2')).toMatchObject({
      status: 'provisioned',
      provisionedDateTime: iso(firstAt + 250),
      lastRemoteActionResult: { actionState: 'done', startDateTime: iso(firstAt + 150) }
    })
    expect(e.reprovisionCount('pc-2')).toBe(2)
  })

  test("reprovisionRemoteActionResult 'absent': only status and provisionedDateTime show progress", async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      policies: [{ id: 'pol-a', displayName: 'A' }],
      cloudPcs: [
        { id: 'pc-1', displayName: 'PC 1', provisioningPolicyId: 'pol-a', provisionedDateTime: seeded },
        {
          id: 'pc-2',
          displayName: 'PC 2',
          provisioningPolicyId: 'pol-a',
          provisionedDateTime: seeded,
          reprovision: { outcome: 'failed' }
        }
      ],
      knobs: { reprovisionMs: 100, reprovisionRemoteActionResult: 'absent' }
    })
    const requestedAt = clock.now()
    await reprovisionOf(e, 'pc-1')
    await reprovisionOf(e, 'pc-2')
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'provisioning',
      provisionedDateTime: seeded,
      lastRemoteActionResult: null
    })
    clock.advance(100)
    expect(await read(e, 'pc-1')).toMatchObject({
      status: 'provisioned',
      provisionedDateTime: iso(requestedAt + 100),
      lastRemoteActionResult: null
    })
    expect(await read(e, 'pc-2')).toMatchObject({ status: 'failed', provisionedDateTime: seeded, lastRemoteActionResult: null })
    const selected = await call(e, 'GET', `${PCS}?$select=id,lastRemoteActionResult`)
    expect(selected.json.value).toEqual([
      { id: 'pc-1', lastRemoteActionResult: null },
      { id: 'pc-2', lastRemoteActionResult: null }
    ])
    expect(e.cloudPcs().map(pc => pc.lastRemoteActionResult)).toEqual([null, null])
    e.setKnobs({ reprovisionRemoteActionResult: 'shown' })
    expect((await read(e, 'pc-2')).lastRemoteActionResult).toMatchObject({ actionState: 'failed' })
  })
})

describe('faults', () => {
  const createPath = /^\/deviceManagement\/virtualEndpoint\/deviceImages$/

  test('status faults honour skip and times and set Retry-After verbatim', async () => {
    const e = await start()
    const httpDate = 'Wed, 21 Oct 2026 07:28:00 GMT'
    e.addFault({ method: 'POST', path: createPath, skip: 1, times: 2, fault: { kind: 'status', status: 429, retryAfter: '7' } })
    e.addFault({ method: 'GET', fault: { kind: 'status', status: 503, code: 'serviceNotAvailable', retryAfter: httpDate } })
    expect((await create(e, 'A')).status).toBe(201)
    const throttled = await create(e, 'B')
    expect(throttled.status).toBe(429)
    expect(throttled.headers.get('retry-after')).toBe('7')
    expect(throttled.json.error.code).toBe('tooManyRequests')
    expect((await create(e, 'C')).status).toBe(429)
    expect((await create(e, 'D')).status).toBe(201)
    const unavailable = await call(e, 'GET', IMAGES)
    expect(unavailable.headers.get('retry-after')).toBe(httpDate)
    expect(unavailable.json.error.code).toBe('serviceNotAvailable')
    expect(e.images().map(i => i.displayName)).toEqual(['A', 'D'])
    expect(e.requests.map(r => r.fault)).toEqual([undefined, 'status', 'status', undefined, 'status'])
    e.clearFaults()
    expect((await call(e, 'GET', IMAGES)).status).toBe(200)
  })

  test('commitThenStatus and commitThenDrop apply the write; drop does not', async () => {
    const e = await start()
    e.addFault({ path: createPath, fault: { kind: 'commitThenStatus', status: 500 } })
    const committed = await create(e, 'A')
    expect(committed.status).toBe(500)
    expect(committed.json.error.code).toBe('internalServerError')
    e.addFault({ path: createPath, fault: { kind: 'drop' } })
    await expect(create(e, 'B')).rejects.toThrow()
    e.addFault({ path: createPath, fault: { kind: 'commitThenDrop' } })
    await expect(create(e, 'C')).rejects.toThrow()
    expect(e.images().map(i => i.displayName)).toEqual(['A', 'C'])
    expect(e.writes().map(r => [r.fault, r.status])).toEqual([
      ['commitThenStatus', 500],
      ['drop', 0],
      ['commitThenDrop', 0]
    ])
  })

  test('delay answers late, and discards the request when the caller gave up', async () => {
    const e = await start()
    e.addFault({ method: 'GET', fault: { kind: 'delay', ms: 40 } })
    // The delayed answer comes after that of a request sent later.
    const order: string[] = []
    const late = call(e, 'GET', IMAGES).then(r => void order.push(`delayed ${r.status}`))
    await new Promise(resolve => setTimeout(resolve, 5))
    await call(e, 'GET', IMAGES).then(r => void order.push(`prompt ${r.status}`))
    await late
    expect(order).toEqual(['prompt 200', 'delayed 200'])

    e.addFault({ method: 'POST', fault: { kind: 'delay', ms: 60 } })
    expect((await create(e, 'A')).status).toBe(201)
    e.addFault({ method: 'POST', fault: { kind: 'delay', ms: 60 } })
    const controller = new AbortController()
    const before = e.requests.length
    const abandoned = call(e, 'POST', IMAGES, {
      body: { displayName: 'B', version: '1.0.0', sourceImageResourceId: SOURCE },
      signal: controller.signal
    })
    // Give up only once the emulator has read the request and chosen the fault.
    while (e.requests[before]?.fault === undefined) await sleep(2)
    controller.abort()
    await expect(abandoned).rejects.toThrow()
    await sleep(100)
    expect(e.images().map(i => i.displayName)).toEqual(['A'])
    expect(e.requests.at(-1)).toMatchObject({ fault: 'delay', status: 0 })
  })

  test('malformed answers raw bytes as JSON', async () => {
    const e = await start()
    e.addFault({ fault: { kind: 'malformed' } })
    e.addFault({ fault: { kind: 'malformed', status: 502, body: '<html>gateway</html>' } })
    const truncated = await call(e, 'GET', IMAGES)
    expect([truncated.status, truncated.text, truncated.headers.get('content-type')]).toEqual([
      200,
      '{"value": [',
      'application/json'
    ])
    const html = await call(e, 'GET', IMAGES)
    expect([html.status, html.text]).toEqual([502, '<html>gateway</html>'])
  })

  test('faults reach the token route, and probability is seeded', async () => {
    const e = await start({ faults: [{ path: '/t/oauth2/v2.0/token', fault: { kind: 'status', status: 503 } }] })
    const fields = { grant_type: 'client_credentials', client_id: 'a', client_secret: 's', scope: `${e.url}/.default` }
    expect((await token(e, 't', fields)).status).toBe(503)
    expect((await token(e, 't', fields)).status).toBe(200)

    const firings = async (seed: number): Promise<boolean[]> => {
      const s = await startEmulator({
        seed,
        faults: [{ method: 'GET', times: Infinity, probability: 0.5, fault: { kind: 'status', status: 500 } }]
      })
      const fired: boolean[] = []
      for (let i = 0; i < 16; i++) fired.push((await call(s, 'GET', IMAGES)).status === 500)
      await s.close()
      return fired
    }
    const a = await firings(7)
    expect(await firings(7)).toEqual(a)
    expect(a.filter(Boolean).length).toBeGreaterThan(0)
    expect(a.filter(Boolean).length).toBeLessThan(16)
  })
})

describe('write budget', () => {
  test('writes past the budget get 429 with Retry-After until a slot frees', async () => {
    const clock = manualClock()
    const e = await start({ now: clock.now, knobs: { writeBudget: { writes: 2, perSeconds: 10 } } })
    expect((await create(e, 'A')).status).toBe(201)
    clock.advance(3000)
    expect((await call(e, 'DELETE', `${IMAGES}/nope`)).status).toBe(404)
    const throttled = await create(e, 'B')
    expect(throttled.status).toBe(429)
    expect(throttled.headers.get('retry-after')).toBe('7')
    expect((await call(e, 'GET', IMAGES)).status).toBe(200)
    clock.advance(6500)
    expect((await create(e, 'B')).headers.get('retry-after')).toBe('1')
    clock.advance(500)
    expect((await create(e, 'B')).status).toBe(201)
  })
})

describe('request log', () => {
  test('records every request with route, query, lower-cased headers, body and status', async () => {
    const e = await start()
    await token(e, 'tenant', { grant_type: 'client_credentials', client_id: 'a', client_secret: 's', scope: `${e.url}/.default` })
    await call(e, 'GET', `${IMAGES}?$select=id,status`, { headers: { 'X-Trace': 'abc' } })
    await create(e, 'A')
    const id = e.images()[0].id
    await call(e, 'GET', `/v1.0${VE}/deviceImages/${id}`)
    expect(e.requests.map(r => [r.seq, r.method, r.route, r.status])).toEqual([
      [1, 'POST', 'token', 200],
      [2, 'GET', 'deviceImages.list', 200],
      [3, 'POST', 'deviceImages.create', 201],
      [4, 'GET', 'deviceImages.get', 200]
    ])
    const list = e.requests[1]
    expect(list).toMatchObject({ path: IMAGES, query: { $select: 'id,status' } })
    expect(list.headers['x-trace']).toBe('abc')
    expect(list.headers.prefer).toBe(PREFER)
    expect(JSON.parse(e.requests[2].body)).toMatchObject({ displayName: 'A' })
    expect(e.requests[3].path).toBe(`/v1.0${VE}/deviceImages/${id}`)
    expect(e.writes().map(r => r.route)).toEqual(['deviceImages.create'])
  })

  test('a seed makes ids repeatable', async () => {
    const ids = async (seed: number): Promise<string[]> => {
      const s = await startEmulator({ seed, images: [{ displayName: 'Seeded', version: '1', sourceImageResourceId: SOURCE }] })
      await create(s, 'Created')
      const result = s.images().map(i => i.id)
      await s.close()
      return result
    }
    const first = await ids(42)
    expect(await ids(42)).toEqual(first)
    expect(await ids(43)).not.toEqual(first)
  })
})

describe('command line', () => {
  test('prints one line with the URL, announces ARM on standard error, and stops on SIGTERM', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/cli.ts', '--port', '0', '--arm-port', '0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    /** The first line of a stream, or all it printed when the child dies first. */
    const firstLine = (stream: NodeJS.ReadableStream): Promise<string> => {
      let out = ''
      stream.setEncoding('utf8')
      return new Promise<string>(resolve => {
        stream.on('data', (chunk: string) => {
          out += chunk
          if (out.includes('\n')) resolve(out)
        })
        // A child that dies first still settles, so the assertions below show what it printed.
        child.once('exit', () => resolve(out))
      })
    }
    const [printed, announced] = await Promise.all([firstLine(child.stdout), firstLine(child.stderr)])
    const match = /^Graph emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(printed)
    expect(match).not.toBeNull()
    expect((await fetch(`${match?.[1]}/beta${VE}/deviceImages`)).status).toBe(401)
    const arm = /^Azure Resource Manager emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(announced)
    expect(arm).not.toBeNull()
    expect(arm?.[1]).not.toBe(match?.[1])
    const armAnswer = await fetch(`${arm?.[1]}/subscriptions/x?api-version=2024-11-01`)
    expect([armAnswer.status, ((await armAnswer.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'AuthenticationFailed'
    ])
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    expect((await exited)[0]).toBe(0)
  })
})

describe('GitHub OIDC issuer and federated credentials', () => {
  const CLIENT = '00000000-0000-0000-0000-00000000c11e'
  const SUBJECT = 'repo:contoso/cloudpc-images:environment:production'
  const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

  async function idToken(
    e: Emulator,
    audience = 'api://AzureADTokenExchange',
    bearer = e.githubOidc.requestToken
  ): Promise<Answer> {
    return answer(
      await fetch(`${e.githubOidc.requestUrl}&audience=${encodeURIComponent(audience)}`, {
        headers: { authorization: `Bearer ${bearer}` }
      })
    )
  }
  const exchange = (e: Emulator, assertion: string) =>
    token(e, 't', {
      grant_type: 'client_credentials',
      client_id: CLIENT,
      scope: `${e.url}/.default`,
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion
    })

  test('issues a fresh ID token per request, with the subject and the audience asked for', async () => {
    const e = await start({ githubOidc: { subject: SUBJECT } })
    const first = await idToken(e)
    const second = await idToken(e)
    expect(first.status).toBe(200)
    expect(first.json.value).not.toBe(second.json.value)
    expect(jwtPayload(first.json.value)).toMatchObject({
      iss: 'https://token.actions.githubusercontent.com',
      sub: SUBJECT,
      aud: 'api://AzureADTokenExchange'
    })
    expect(e.githubOidc.issued).toEqual([first.json.value, second.json.value])
    expect(e.requests.map(r => r.route)).toEqual(['github.idToken', 'github.idToken'])
  })

  test('refuses an ID token request without the runner request token', async () => {
    const e = await start()
    expect((await idToken(e, 'api://AzureADTokenExchange', 'wrong')).status).toBe(401)
  })

  test('exchanges an ID token that matches a federated credential', async () => {
    const e = await start({
      githubOidc: { subject: SUBJECT },
      clients: [{ clientId: CLIENT, federated: [{ subject: SUBJECT }] }]
    })
    const got = await exchange(e, (await idToken(e)).json.value)
    expect(got.status).toBe(200)
    expect(got.json.access_token).toBeTruthy()
  })

  test('refuses a subject or audience no federated credential names, saying what was presented', async () => {
    const e = await start({
      githubOidc: { subject: 'repo:contoso/cloudpc-images:ref:refs/heads/feature' },
      clients: [{ clientId: CLIENT, federated: [{ subject: SUBJECT }] }]
    })
    const wrongSubject = await exchange(e, (await idToken(e)).json.value)
    expect(wrongSubject.status).toBe(400)
    expect(wrongSubject.json.error_description).toMatch(
      /^AADSTS70021: .*Assertion Subject: 'repo:contoso\/cloudpc-images:ref:refs\/heads\/feature'/
    )
    const wrongAudience = await exchange(e, (await idToken(e, 'api://other')).json.value)
    expect(wrongAudience.json.error_codes).toEqual([70021])
    expect((await exchange(e, 'not-a-github-token')).json.error_codes).toEqual([70021])
  })

  test('refuses an expired ID token', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      githubOidc: { subject: SUBJECT, lifetimeSeconds: 60 },
      clients: [{ clientId: CLIENT, federated: [{ subject: SUBJECT }] }]
    })
    const assertion = (await idToken(e)).json.value
    clock.advance(61_000)
    expect((await exchange(e, assertion)).json.error_codes).toEqual([700024])
  })
})

describe('Azure Resource Manager', () => {
  const SUBSCRIPTION = '00000000-0000-0000-0000-0000000000aa'
  const COMPUTE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-images/providers/Microsoft.Compute`
  const IMAGE = `${COMPUTE}/images/win11-dev`
  const DEFINITION = `${COMPUTE}/galleries/gal_cpc/images/win11-cpc`
  const VERSION = `${DEFINITION}/versions/1.2.0`
  const DES = `${COMPUTE}/diskEncryptionSets/des-cpc`
  const IMAGES_API = '2024-11-01'
  const GALLERY_API = '2024-03-03'

  function armToken(e: Emulator, o: { lifetimeSeconds?: number; clientId?: string; tenantId?: string } = {}): string {
    return e.issueToken({ ...o, audience: e.armUrl })
  }

  /** A GET on ARM; `apiVersion` null sends none; the token defaults to one for the ARM scope. */
  function arm(
    e: Emulator,
    path: string,
    apiVersion: string | null,
    o: Omit<CallOptions, 'prefer'> & { method?: string } = {}
  ): Promise<Answer> {
    const query = apiVersion === null ? '' : `?api-version=${apiVersion}`
    const token = o.token === undefined ? armToken(e) : o.token
    return call(e, o.method ?? 'GET', `${e.armUrl}${path}${query}`, { ...o, token, prefer: false })
  }

  test('a token for the ARM scope reads the three source types in their passing, real shapes', async () => {
    const clock = manualClock()
    const e = await start({ now: clock.now })
    expect(e.armUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(e.armUrl).not.toBe(e.url)
    const issued = await token(e, 'contoso.example', {
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_secret: 'secret',
      scope: `${e.armUrl}/.default`
    })
    expect(issued.status).toBe(200)
    const claims = jwtPayload(issued.json.access_token)
    expect(claims).toMatchObject({ aud: e.armUrl, appid: 'app-1', tid: 'contoso.example', idtyp: 'app' })
    // Graph's application roles are no part of a token for ARM.
    expect(claims.roles).toBeUndefined()
    const armBearer = issued.json.access_token as string

    const image = await arm(e, IMAGE, IMAGES_API, {
      token: armBearer,
      headers: { 'x-ms-correlation-request-id': 'corr-1' }
    })
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(image.headers.get('x-ms-correlation-request-id')).toBe('corr-1')
    expect(image.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(image.headers.get('date')).toBe('Sun, 01 Mar 2026 08:00:00 GMT')
    expect(image.headers.get('odata-version')).toBeNull()
    expect(image.json).toEqual({
      id: IMAGE,
      name: 'win11-dev',
      type: 'Microsoft.Compute/images',
      location: 'westeurope',
      tags: {},
      properties: {
        storageProfile: {
          osDisk: {
            osType: 'Windows',
            osState: 'Generalized',
            diskSizeGB: 127,
            caching: 'ReadWrite',
            storageAccountType: 'Premium_LRS'
          },
          dataDisks: [],
          zoneResilient: false
        },
        provisioningState: 'Succeeded',
        hyperVGeneration: 'V2'
      }
    })
    expect(Object.keys(image.json)).toEqual(['id', 'name', 'type', 'location', 'tags', 'properties'])

    const definition = await arm(e, DEFINITION, GALLERY_API, { token: armBearer })
    expect(definition.status).toBe(200)
    expect(definition.json).toEqual({
      id: DEFINITION,
      name: 'win11-cpc',
      type: 'Microsoft.Compute/galleries/images',
      location: 'westeurope',
      tags: {},
      properties: {
        identifier: { publisher: 'Contoso', offer: 'windows-11-cloudpc', sku: 'win11-cpc' },
        osType: 'Windows',
        osState: 'Generalized',
        hyperVGeneration: 'V2',
        architecture: 'x64',
        features: [{ name: 'SecurityType', value: 'TrustedLaunch' }],
        provisioningState: 'Succeeded'
      }
    })

    clock.advance(5000)
    const version = await arm(e, VERSION, GALLERY_API, { token: armBearer })
    expect(version.status).toBe(200)
    expect(version.json).toEqual({
      id: VERSION,
      name: '1.2.0',
      type: 'Microsoft.Compute/galleries/images/versions',
      location: 'westeurope',
      tags: {},
      properties: {
        publishingProfile: {
          targetRegions: [{ name: 'West Europe', regionalReplicaCount: 1, storageAccountType: 'Standard_LRS' }],
          replicaCount: 1,
          excludeFromLatest: false,
          // When the emulator started, not when it was read.
          publishedDate: '2026-03-01T08:00:00.0000000+00:00',
          storageAccountType: 'Standard_LRS'
        },
        storageProfile: { osDiskImage: { sizeInGB: 127, hostCaching: 'ReadWrite' }, dataDiskImages: [] },
        provisioningState: 'Succeeded'
      }
    })

    // A correlation id the caller did not send is minted per request.
    expect(version.headers.get('x-ms-correlation-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(version.headers.get('x-ms-correlation-request-id')).not.toBe(definition.headers.get('x-ms-correlation-request-id'))
    expect(e.requests.map(r => [r.server, r.method, r.route, r.status])).toEqual([
      ['graph', 'POST', 'token', 200],
      ['arm', 'GET', 'arm.images.get', 200],
      ['arm', 'GET', 'arm.galleryImages.get', 200],
      ['arm', 'GET', 'arm.galleryImageVersions.get', 200]
    ])
    expect(e.requests[1]).toMatchObject({ path: IMAGE, query: { 'api-version': IMAGES_API } })
    expect(SERVED_ARM_ROUTES.map(r => [r.method, r.name, r.type])).toEqual([
      ['GET', 'arm.images.get', 'Microsoft.Compute/images'],
      ['GET', 'arm.galleryImages.get', 'Microsoft.Compute/galleries/images'],
      ['GET', 'arm.galleryImageVersions.get', 'Microsoft.Compute/galleries/images/versions']
    ])
    expect(e.requests[1].headers.authorization).toBe(`Bearer ${armBearer}`)
    expect(e.writes()).toEqual([])
  })

  test('seeds change the passing default: objects merge, arrays replace, and IDs match in any case', async () => {
    const e = await start({
      armResources: [
        {
          id: IMAGE.toLowerCase(),
          location: 'northeurope',
          tags: { team: 'euc' },
          properties: {
            storageProfile: {
              osDisk: { osState: 'Specialized', diskEncryptionSet: { id: DES } },
              dataDisks: [{ lun: 0, diskSizeGB: 32, caching: 'None', storageAccountType: 'Premium_LRS' }]
            },
            hyperVGeneration: 'V1'
          }
        },
        {
          id: DEFINITION,
          properties: { architecture: 'Arm64', features: [{ name: 'SecurityType', value: 'Standard' }] }
        },
        {
          id: VERSION,
          properties: {
            publishingProfile: {
              targetRegions: [
                {
                  name: 'West Europe',
                  regionalReplicaCount: 1,
                  storageAccountType: 'Standard_LRS',
                  encryption: { osDiskImage: { diskEncryptionSetId: DES } }
                }
              ]
            },
            storageProfile: { dataDiskImages: [{ lun: 1, sizeInGB: 64, hostCaching: 'None' }] }
          }
        }
      ]
    })
    const image = await arm(e, IMAGE, IMAGES_API)
    expect(image.status).toBe(200)
    // The seed's own spelling of its ID is what ARM renders.
    expect(image.json).toMatchObject({
      id: IMAGE.toLowerCase(),
      name: 'win11-dev',
      location: 'northeurope',
      tags: { team: 'euc' }
    })
    expect(image.json.properties).toEqual({
      storageProfile: {
        osDisk: {
          osType: 'Windows',
          osState: 'Specialized',
          diskSizeGB: 127,
          caching: 'ReadWrite',
          storageAccountType: 'Premium_LRS',
          diskEncryptionSet: { id: DES }
        },
        dataDisks: [{ lun: 0, diskSizeGB: 32, caching: 'None', storageAccountType: 'Premium_LRS' }],
        zoneResilient: false
      },
      provisioningState: 'Succeeded',
      hyperVGeneration: 'V1'
    })

    const definition = await arm(e, DEFINITION.toUpperCase().replace(SUBSCRIPTION.toUpperCase(), SUBSCRIPTION), GALLERY_API)
    expect(definition.status).toBe(200)
    expect(definition.json.id).toBe(DEFINITION)
    expect(definition.json.properties).toMatchObject({
      architecture: 'Arm64',
      features: [{ name: 'SecurityType', value: 'Standard' }],
      osType: 'Windows',
      hyperVGeneration: 'V2'
    })

    const version = await arm(e, VERSION, GALLERY_API)
    expect(version.json.properties.publishingProfile.targetRegions).toEqual([
      {
        name: 'West Europe',
        regionalReplicaCount: 1,
        storageAccountType: 'Standard_LRS',
        encryption: { osDiskImage: { diskEncryptionSetId: DES } }
      }
    ])
    expect(version.json.properties.publishingProfile.replicaCount).toBe(1)
    expect(version.json.properties.storageProfile).toEqual({
      osDiskImage: { sizeInGB: 127, hostCaching: 'ReadWrite' },
      dataDiskImages: [{ lun: 1, sizeInGB: 64, hostCaching: 'None' }]
    })

    // setArmResource replaces a seed whole, and adds one at run time.
    e.setArmResource({ id: IMAGE, properties: { hyperVGeneration: 'V2' } })
    const replaced = await arm(e, IMAGE, IMAGES_API)
    expect(replaced.json.location).toBe('westeurope')
    expect(replaced.json.properties.storageProfile.osDisk.osState).toBe('Generalized')
    expect(replaced.json.properties.storageProfile.osDisk.diskEncryptionSet).toBeUndefined()
    const other = `${COMPUTE}/images/win11-next`
    e.setArmResource({ id: other, properties: { storageProfile: { osDisk: { osType: 'Linux' } } } })
    expect((await arm(e, other, IMAGES_API)).json.properties.storageProfile.osDisk).toMatchObject({
      osType: 'Linux',
      osState: 'Generalized'
    })
    expect(() => e.setArmResource({ id: `${COMPUTE}/disks/os-disk` })).toThrow(/not a managed image, gallery image definition/)
    await expect(startEmulator({ armResources: [{ id: 'win11-dev' }] })).rejects.toThrow(/'win11-dev' is not a managed image/)
  })

  test('a seed answers 403 or 404 for its resource, in ARM error bodies', async () => {
    const e = await start({
      armResources: [
        { id: IMAGE, answer: 403 },
        { id: DEFINITION, answer: 404 },
        { id: VERSION, answer: 404 },
        { id: `${COMPUTE}/images/gone`, answer: 404 }
      ]
    })
    const bearer = armToken(e, { clientId: 'app-7', tenantId: 'tenant-7' })
    const oid = jwtPayload(bearer).oid as string
    expect(oid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/)
    // The same app in the same tenant is the same service principal.
    expect(jwtPayload(armToken(e, { clientId: 'app-7', tenantId: 'tenant-7' })).oid).toBe(oid)

    const denied = await arm(e, IMAGE, IMAGES_API, { token: bearer })
    expect(denied.status).toBe(403)
    expect(denied.json).toEqual({
      error: {
        code: 'AuthorizationFailed',
        message: `The client 'app-7' with object id '${oid}' does not have authorization to perform action 'Microsoft.Compute/images/read' over scope '${IMAGE}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
      }
    })
    expect(denied.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/)

    const gone = await arm(e, `${COMPUTE}/images/gone`, IMAGES_API)
    expect(gone.status).toBe(404)
    expect(gone.json).toEqual({
      error: {
        code: 'ResourceNotFound',
        message:
          "The Resource 'Microsoft.Compute/images/gone' under resource group 'rg-images' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
      }
    })
    const definition = await arm(e, DEFINITION, GALLERY_API)
    expect([definition.status, definition.json.error.code]).toEqual([404, 'ResourceNotFound'])
    expect(definition.json.error.message).toBe(
      "The Resource 'Microsoft.Compute/galleries/gal_cpc/images/win11-cpc' under resource group 'rg-images' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    )
    const version = await arm(e, VERSION, GALLERY_API)
    expect(version.json.error.message).toMatch(
      /^The Resource 'Microsoft\.Compute\/galleries\/gal_cpc\/images\/win11-cpc\/versions\/1\.2\.0' under resource group 'rg-images' was not found\./
    )
    // Seeds are per resource: an unseeded image next to them still passes.
    expect((await arm(e, `${COMPUTE}/images/win11-next`, IMAGES_API)).status).toBe(200)
  })

  test('knobs armAccess and armUnknownResources answer every read', async () => {
    const e = await start({ armResources: [{ id: IMAGE, properties: { hyperVGeneration: 'V1' } }] })
    e.setKnobs({ armAccess: 'forbidden' })
    const bearer = armToken(e, { clientId: 'app-9' })
    const oid = jwtPayload(bearer).oid as string
    const version = await arm(e, VERSION, GALLERY_API, { token: bearer })
    expect(version.status).toBe(403)
    expect(version.json.error).toEqual({
      code: 'AuthorizationFailed',
      message: `The client 'app-9' with object id '${oid}' does not have authorization to perform action 'Microsoft.Compute/galleries/images/versions/read' over scope '${VERSION}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
    })
    const definition = await arm(e, DEFINITION, GALLERY_API, { token: bearer })
    expect(definition.json.error.message).toContain("perform action 'Microsoft.Compute/galleries/images/read'")
    // A seeded resource is no more readable.
    expect((await arm(e, IMAGE, IMAGES_API)).status).toBe(403)

    e.setKnobs({ armAccess: 'otherTenant' })
    const wrongTenant = await arm(e, IMAGE, IMAGES_API, { token: armToken(e, { tenantId: 'tenant-a' }) })
    expect(wrongTenant.status).toBe(401)
    expect(wrongTenant.json.error.code).toBe('InvalidAuthenticationTokenTenant')
    expect(wrongTenant.json.error.message).toMatch(
      /^The access token is from the wrong issuer 'https:\/\/sts\.windows\.net\/tenant-a\/'\. It must match the tenant 'https:\/\/sts\.windows\.net\/[0-9a-f-]{36}\/' associated with this subscription\. /
    )
    expect(wrongTenant.headers.get('www-authenticate')).toMatch(
      /^Bearer authorization_uri="http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}", error="invalid_token"/
    )
    expect(wrongTenant.headers.get('www-authenticate')).toContain(e.url)

    e.setKnobs({ armAccess: 'granted', armUnknownResources: 'notFound' })
    const unknown = await arm(e, VERSION, GALLERY_API)
    expect(unknown.status).toBe(404)
    expect(unknown.json.error.message).toContain(
      "The Resource 'Microsoft.Compute/galleries/gal_cpc/images/win11-cpc/versions/1.2.0'"
    )
    expect((await arm(e, `${COMPUTE}/images/win11-next`, IMAGES_API)).json.error.code).toBe('ResourceNotFound')
    const seeded = await arm(e, IMAGE, IMAGES_API)
    expect([seeded.status, seeded.json.properties.hyperVGeneration]).toEqual([200, 'V1'])
  })

  test('api-version: required, and only one ARM knows for the resource type', async () => {
    const e = await start()
    const missing = await arm(e, IMAGE, null)
    expect(missing.status).toBe(400)
    expect(missing.json.error).toEqual({
      code: 'MissingApiVersionParameter',
      message: 'The api-version query parameter (?api-version=) is required for all requests.'
    })
    expect((await arm(e, IMAGE, '')).json.error.code).toBe('MissingApiVersionParameter')
    for (const v of ['2024-07-01', '2024-11-01']) expect((await arm(e, IMAGE, v)).status).toBe(200)
    for (const v of ['2023-07-03', '2024-03-03']) {
      expect((await arm(e, DEFINITION, v)).status).toBe(200)
      expect((await arm(e, VERSION, v)).status).toBe(200)
    }
    // Each resource provider has its own versions: a gallery's is unknown for an image and the reverse.
    const galleryVersionOnImage = await arm(e, IMAGE, GALLERY_API)
    expect(galleryVersionOnImage.status).toBe(400)
    expect(galleryVersionOnImage.json.error.code).toBe('InvalidApiVersionParameter')
    expect(galleryVersionOnImage.json.error.message).toMatch(
      /^The api-version '2024-03-03' is invalid\. The supported versions are '[^']*2024-07-01,2024-11-01[^']*'\.$/
    )
    const imageVersionOnGallery = await arm(e, VERSION, IMAGES_API)
    expect(imageVersionOnGallery.json.error.code).toBe('InvalidApiVersionParameter')
    expect(imageVersionOnGallery.json.error.message).toContain('2023-07-03,2024-03-03')
    expect((await arm(e, DEFINITION, '2099-01-01')).status).toBe(400)
    expect((await arm(e, DEFINITION, 'latest')).json.error.code).toBe('InvalidApiVersionParameter')
  })

  test('ARM refuses a missing, Graph, unknown or expired token; Graph refuses a token for ARM', async () => {
    const clock = manualClock()
    const e = await start({ now: clock.now, tokenLifetimeSeconds: 60 })
    const missing = await arm(e, IMAGE, IMAGES_API, { token: null })
    expect(missing.status).toBe(401)
    expect(missing.json.error).toEqual({
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is missing."
    })
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=".*", error="invalid_token"/)
    const basic = await arm(e, IMAGE, IMAGES_API, { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } })
    expect(basic.json.error).toEqual({
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is provided in an invalid format."
    })

    const graphToken = await token(e, 'tenant', {
      grant_type: 'client_credentials',
      client_id: 'a',
      client_secret: 's',
      scope: `${e.url}/.default`
    })
    const wrongAudience = await arm(e, IMAGE, IMAGES_API, { token: graphToken.json.access_token })
    expect(wrongAudience.status).toBe(401)
    expect(wrongAudience.json.error).toEqual({
      code: 'InvalidAuthenticationToken',
      message: `The access token has been obtained for wrong audience or resource '${e.url}'. It should exactly match with one of the allowed audiences '${e.armUrl}/','${e.armUrl}'.`
    })
    expect((await arm(e, IMAGE, IMAGES_API, { token: e.issueToken() })).json.error.code).toBe('InvalidAuthenticationToken')
    const forged = await arm(e, IMAGE, IMAGES_API, { token: 'a.b.c' })
    expect(forged.json.error).toEqual({ code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' })

    const armBearer = armToken(e)
    const refusedByGraph = await call(e, 'GET', IMAGES, { token: armBearer })
    expect(refusedByGraph.status).toBe(401)
    expect(refusedByGraph.json.error).toMatchObject({
      code: 'invalidAuthenticationToken',
      message: 'Access token validation failure. Invalid audience.'
    })
    expect(refusedByGraph.json.error.innerError['request-id']).toBe(refusedByGraph.headers.get('request-id'))
    // Graph keeps taking its own tokens, those for another Graph host name included.
    expect((await call(e, 'GET', IMAGES, { token: graphToken.json.access_token })).status).toBe(200)
    expect((await call(e, 'GET', IMAGES, { token: e.issueToken({ audience: 'https://graph.microsoft.com' }) })).status).toBe(200)
    expect((await arm(e, IMAGE, IMAGES_API, { token: armBearer })).status).toBe(200)

    clock.advance(60_000)
    const expired = await arm(e, IMAGE, IMAGES_API, { token: armBearer })
    expect(expired.status).toBe(401)
    expect(expired.json.error).toEqual({
      code: 'ExpiredAuthenticationToken',
      message: "The access token expiry UTC time '3/1/2026 8:01:00 AM' is earlier than current UTC time '3/1/2026 8:01:00 AM'."
    })
    e.revokeTokens()
    expect((await arm(e, IMAGE, IMAGES_API, { token: armToken(e, { lifetimeSeconds: 600 }) })).status).toBe(200)
    expect((await arm(e, IMAGE, IMAGES_API, { token: armBearer })).json.error.message).toBe('The access token is invalid.')
  })

  test('keywords compare case-insensitively; other paths answer 404, other methods 405', async () => {
    const e = await start({ armResources: [{ id: VERSION, properties: { storageProfile: { osDiskImage: { sizeInGB: 256 } } } }] })
    const shouted = `/SUBSCRIPTIONS/${SUBSCRIPTION}/RESOURCEGROUPS/rg-images/PROVIDERS/MICROSOFT.COMPUTE/GALLERIES/gal_cpc/IMAGES/win11-cpc/VERSIONS/1.2.0`
    const read = await arm(e, shouted, GALLERY_API)
    expect(read.status).toBe(200)
    expect(read.json).toMatchObject({ id: VERSION, name: '1.2.0', type: 'Microsoft.Compute/galleries/images/versions' })
    expect(read.json.properties.storageProfile.osDiskImage).toEqual({ sizeInGB: 256, hostCaching: 'ReadWrite' })
    // An unseeded ID renders with ARM's spelling of every keyword and the names as sent.
    const lower = await arm(
      e,
      `/subscriptions/${SUBSCRIPTION}/resourcegroups/RG-Other/providers/microsoft.compute/images/Win11`,
      IMAGES_API
    )
    expect(lower.json).toMatchObject({
      id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/RG-Other/providers/Microsoft.Compute/images/Win11`,
      name: 'Win11'
    })
    expect((await arm(e, `${IMAGE}/`, IMAGES_API)).status).toBe(200)
    expect(e.requests.map(r => r.route)).toEqual(['arm.galleryImageVersions.get', 'arm.images.get', 'arm.images.get'])
    expect(e.requests[0].path).toBe(shouted)

    const disk = await arm(e, `${COMPUTE}/disks/os-disk`, IMAGES_API)
    expect(disk.status).toBe(404)
    expect(disk.json.error).toEqual({
      code: 'InvalidResourceType',
      message: "The resource type 'disks' could not be found in the namespace 'Microsoft.Compute' for api version '2024-11-01'."
    })
    const network = await arm(
      e,
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-images/providers/Microsoft.Network/images/x`,
      IMAGES_API
    )
    expect(network.json.error.code).toBe('InvalidResourceType')
    const list = await arm(e, `${COMPUTE}/images`, IMAGES_API)
    expect([list.status, list.json.error.code]).toEqual([404, 'InvalidResourceType'])
    const root = await arm(e, '/subscriptions', IMAGES_API)
    expect([root.status, root.json.error.code]).toEqual([404, 'NotFound'])
    const badSubscription = await arm(e, IMAGE.replace(SUBSCRIPTION, 'not-a-guid'), IMAGES_API)
    expect(badSubscription.status).toBe(400)
    expect(badSubscription.json.error.code).toBe('InvalidSubscriptionId')

    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      const refused = await arm(e, IMAGE, IMAGES_API, { method, body: {} })
      expect(refused.status).toBe(405)
      expect(refused.json.error).toEqual({
        code: 'MethodNotAllowed',
        message: `The requested resource does not support http method '${method}'.`
      })
    }
    expect(e.requests.slice(-4).map(r => r.route)).toEqual(['arm.unknown', 'arm.unknown', 'arm.unknown', 'arm.unknown'])
    // ARM's writes are not Graph's.
    expect(e.writes()).toEqual([])
    // The Graph server does not serve ARM paths.
    const onGraph = await call(e, 'GET', `${IMAGE}?api-version=${IMAGES_API}`, { token: armToken(e) })
    expect([onGraph.status, onGraph.json.error.code]).toEqual([404, 'notFound'])
  })

  test('fault rules and before hooks reach ARM paths, matched without the query', async () => {
    const e = await start()
    e.addFault({ method: 'GET', path: IMAGE, fault: { kind: 'status', status: 503, retryAfter: '4' } })
    e.addFault({ path: /\/versions\/[^/]+$/, skip: 1, fault: { kind: 'status', status: 429, code: 'TooManyRequests' } })
    const unavailable = await arm(e, IMAGE, IMAGES_API)
    expect(unavailable.status).toBe(503)
    expect(unavailable.headers.get('retry-after')).toBe('4')
    expect(unavailable.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(unavailable.json).toEqual({ error: { code: 'ServiceUnavailable', message: 'Service Unavailable' } })
    expect((await arm(e, IMAGE, IMAGES_API)).status).toBe(200)
    expect((await arm(e, VERSION, GALLERY_API)).status).toBe(200)
    const throttled = await arm(e, VERSION, GALLERY_API)
    expect([throttled.status, throttled.json.error.code]).toEqual([429, 'TooManyRequests'])
    expect(e.requests.map(r => r.fault)).toEqual(['status', undefined, undefined, 'status'])

    e.addFault({ path: DEFINITION, fault: { kind: 'malformed', status: 200, body: '{"id": ' } })
    const truncated = await arm(e, DEFINITION, GALLERY_API)
    expect([truncated.status, truncated.text]).toEqual([200, '{"id": '])
    e.addFault({ path: DEFINITION, fault: { kind: 'drop' } })
    await expect(arm(e, DEFINITION, GALLERY_API)).rejects.toThrow()
    expect(e.requests.at(-1)).toMatchObject({ route: 'arm.galleryImages.get', fault: 'drop', status: 0 })

    // Another administrator re-captures the image just before the preflight reads it.
    e.before({ method: 'GET', path: IMAGE }, emu =>
      emu.setArmResource({ id: IMAGE, properties: { storageProfile: { osDisk: { osState: 'Specialized' } } } })
    )
    expect((await arm(e, IMAGE, IMAGES_API)).json.properties.storageProfile.osDisk.osState).toBe('Specialized')
    // A Graph read does not meet a fault ruled for an ARM path.
    e.addFault({ path: IMAGE, fault: { kind: 'status', status: 500 } })
    expect((await call(e, 'GET', IMAGES)).status).toBe(200)
    expect((await arm(e, IMAGE, IMAGES_API)).status).toBe(500)
  })
})
