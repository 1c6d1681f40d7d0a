// The pure readings of an answer: Graph's and the token endpoint's, and how a lost write is settled.
import { describe, expect, it } from '@jest/globals'
import { interpretTokenAnswer } from '../src/http/credentials.js'
import { ActionError, GraphError, OutcomeUnknownError } from '../src/core/errors.js'
import { interpretGraphAnswer, toGraphError } from '../src/graph/answers.js'
import type { Exchange } from '../src/http/requester.js'
import { reprovisionStarted } from '../src/rollout/rebuild-observation.js'
import { MAX_WRITES, settleWrite } from '../src/http/settle-write.js'
import { RecordingLogger } from './helpers/recording-logger.js'

const answer = (status: number, text = '', headers: Record<string, string> = {}): Exchange => ({
  kind: 'response',
  status,
  headers,
  text
})
const NOW = Date.parse('2026-11-23T10:00:00Z')

describe('interpretGraphAnswer', () => {
  it('gives the body and the request IDs of a success', () => {
    expect(interpretGraphAnswer('read', 'GET', '/x', answer(200, '{"id":"a"}', { 'request-id': 'r1' }), 'c1')).toEqual({
      kind: 'done',
      value: { status: 200, body: { id: 'a' }, ids: { requestId: 'r1', clientRequestId: 'c1' } }
    })
  })

  it('takes only 2xx as success', () => {
    expect(interpretGraphAnswer('read', 'GET', '/x', answer(299, '{}'), 'c')).toMatchObject({ kind: 'done' })
    for (const status of [199, 300, 304])
      expect(interpretGraphAnswer('read', 'GET', '/x', answer(status, '{}'), 'c')).toMatchObject({
        kind: 'failed',
        attempt: { kind: 'response', status }
      })
  })

  it('takes a 204 as done for a write, and an empty read as a lost answer', () => {
    expect(interpretGraphAnswer('write', 'PATCH', '/x', answer(204), 'c')).toMatchObject({ kind: 'done', value: { status: 204 } })
    expect(interpretGraphAnswer('read', 'GET', '/x', answer(200), 'c')).toMatchObject({
      kind: 'failed',
      attempt: { kind: 'network', error: 'other' },
      what: 'HTTP 200 with an empty body'
    })
  })

  it('takes a body that is not JSON as a lost answer, for a read and for a write', () => {
    for (const kind of ['read', 'write'] as const)
      expect(interpretGraphAnswer(kind, 'POST', '/x', answer(201, '{"id": '), 'c')).toMatchObject({
        kind: 'failed',
        attempt: { kind: 'network', error: 'other' },
        what: 'HTTP 201 with a body that is not JSON'
      })
  })

  it('hands a refusal to the retry policy with its Retry-After, and its error to the user', () => {
    const tried = interpretGraphAnswer(
      'read',
      'GET',
      '/x',
      answer(429, '{"error":{"code":"TooManyRequests","message":"slow down"}}', { 'retry-after': '7', 'request-id': 'r2' }),
      'c2'
    )
    expect(tried).toMatchObject({ kind: 'failed', attempt: { kind: 'response', status: 429, retryAfter: '7' }, requestId: 'r2' })
    if (tried.kind !== 'failed') throw new Error('not failed')
    expect(tried.error()).toMatchObject({ details: { code: 'TooManyRequests', message: 'slow down', requestId: 'r2' } })
  })

  it('passes a network failure on as it was classified', () => {
    const tried = interpretGraphAnswer('read', 'GET', '/x', { kind: 'network', error: 'reset', message: 'ECONNRESET: x' }, 'c')
    expect(tried).toMatchObject({ kind: 'failed', attempt: { kind: 'network', error: 'reset' }, what: 'ECONNRESET: x' })
    if (tried.kind !== 'failed') throw new Error('not failed')
    expect(tried.error()).toMatchObject({ title: 'Graph unreachable', message: 'GET /x failed: ECONNRESET: x.' })
  })
})

describe('toGraphError', () => {
  it('reads code, message and the identifiers from the body first, then the headers', () => {
    const body = JSON.stringify({
      error: {
        code: 'BadRequest',
        message: 'nope',
        innerError: { code: 'inner', 'request-id': 'rb', 'client-request-id': 'cb', date: '2026-11-23T10:00:00' }
      }
    })
    expect(toGraphError('POST', '/x', answer(400, body, { 'request-id': 'rh', date: 'd' }) as never, 'c').details).toEqual({
      method: 'POST',
      path: '/x',
      status: 400,
      code: 'BadRequest',
      message: 'nope',
      innerCode: 'inner',
      requestId: 'rb',
      clientRequestId: 'cb',
      date: '2026-11-23T10:00:00'
    })
    expect(
      toGraphError('GET', '/x', answer(502, '<html>bad gateway</html>', { 'request-id': 'rh', date: 'd' }) as never, 'c').details
    ).toEqual({
      method: 'GET',
      path: '/x',
      status: 502,
      code: 'http502',
      message: '<html>bad gateway</html>',
      innerCode: undefined,
      requestId: 'rh',
      clientRequestId: 'c',
      date: 'd'
    })
  })

  it('never prints an object where a string belongs', () => {
    const error = toGraphError('GET', '/x', answer(400, '{"error":{"code":{"x":1},"message":["a"]}}') as never, 'c')
    expect(error.details.code).toBe('http400')
    expect(error.message).not.toContain('[object Object]')
    expect(toGraphError('GET', '/x', answer(404) as never, 'c').details.message).toBe('no error body')
  })
})

describe('interpretTokenAnswer', () => {
  const at = { authorityHost: 'https://login.example' }

  it('gives the token and when it expires', () => {
    expect(interpretTokenAnswer(answer(200, '{"access_token":"t","expires_in":600}'), NOW, at)).toEqual({
      kind: 'done',
      value: { token: 't', expiresAt: NOW + 600_000 }
    })
    expect(interpretTokenAnswer(answer(200, '{"access_token":"t","expires_in":"x"}'), NOW, at)).toMatchObject({
      value: { expiresAt: NOW + 3600_000 }
    })
  })

  it('takes a lifetime that is not a positive number as an hour', () => {
    for (const expires of ['0', '-5', '"soon"', 'null'])
      expect(interpretTokenAnswer(answer(200, `{"access_token":"t","expires_in":${expires}}`), NOW, at)).toMatchObject({
        value: { expiresAt: NOW + 3600_000 }
      })
    expect(interpretTokenAnswer(answer(200, '{"access_token":"t"}'), NOW, at)).toMatchObject({
      value: { expiresAt: NOW + 3600_000 }
    })
  })

  it('takes only a 200 with a token as success', () => {
    expect(interpretTokenAnswer(answer(201, '{"access_token":"t"}'), NOW, at)).toMatchObject({
      kind: 'failed',
      attempt: { kind: 'response', status: 201 }
    })
    expect(interpretTokenAnswer(answer(200, '{"access_token":""}'), NOW, at)).toMatchObject({ kind: 'failed' })
  })

  it('takes a 200 without a token as a lost answer', () => {
    for (const text of ['', '{}', '{"access_token":5}', 'not json'])
      expect(interpretTokenAnswer(answer(200, text), NOW, at)).toMatchObject({
        kind: 'failed',
        attempt: { kind: 'network' },
        what: 'HTTP 200 without a readable token'
      })
  })

  it('explains an Entra error with its AADSTS code and IDs', () => {
    const body = JSON.stringify({
      error: 'invalid_client',
      error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x',
      trace_id: 't1',
      correlation_id: 'c1'
    })
    const tried = interpretTokenAnswer(answer(401, body, { 'retry-after': '3' }), NOW, at)
    expect(tried).toMatchObject({ kind: 'failed', attempt: { kind: 'response', status: 401, retryAfter: '3' } })
    if (tried.kind !== 'failed') throw new Error('not failed')
    const error = tried.error() as ActionError
    expect(error.title).toBe('Sign-in failed: AADSTS7000215')
    expect(error.message).toBe(
      'The token endpoint answered HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided. The client secret is wrong: check the clientSecret secret (use the secret value, not its ID). trace_id: t1; correlation_id: c1'
    )
  })

  it('reads the AADSTS code from error_codes when the description has none', () => {
    const tried = interpretTokenAnswer(answer(400, '{"error":"x","error_codes":[90002]}'), NOW, at)
    if (tried.kind !== 'failed') throw new Error('not failed')
    expect((tried.error() as ActionError).title).toBe('Sign-in failed: AADSTS90002')
  })

  it('says what a gateway answered in words, not [object Object]', () => {
    const tried = interpretTokenAnswer(answer(503, '{"error":{"code":"ServiceUnavailable","message":"down"}}'), NOW, at)
    if (tried.kind !== 'failed') throw new Error('not failed')
    const error = tried.error() as ActionError
    expect(error.title).toBe('Sign-in failed')
    expect(error.message).toBe('The token endpoint answered HTTP 503: no description trace_id: none; correlation_id: none')
  })

  it('names the host it could not reach', () => {
    const tried = interpretTokenAnswer({ kind: 'network', error: 'reset', message: 'ECONNREFUSED' }, NOW, at)
    if (tried.kind !== 'failed') throw new Error('not failed')
    expect(tried.error().message).toBe('Could not reach https://login.example: ECONNREFUSED.')
  })
})

describe('reprovisionStarted', () => {
  const reprovision = (startDateTime: string | null) => ({ actionName: 'reprovision', actionState: 'active', startDateTime })
  const pc = (action: object | null) => ({ id: 'pc', lastRemoteActionResult: action })

  it.each([
    ['no action before, a reprovision now', null, reprovision('2026-11-23T10:00:00Z'), true],
    [
      'another action before',
      { actionName: 'restart', startDateTime: '2026-11-23T11:00:00Z' },
      reprovision('2026-11-23T10:00:00Z'),
      true
    ],
    ['an older reprovision before', reprovision('2026-11-20T10:00:00Z'), reprovision('2026-11-23T10:00:00Z'), true],
    ['the same reprovision as before', reprovision('2026-11-23T10:00:00Z'), reprovision('2026-11-23T10:00:00Z'), false],
    ['a reprovision without a start', null, reprovision(null), false],
    ['another action now', null, { actionName: 'restart', startDateTime: '2026-11-23T10:00:00Z' }, false],
    ['no action now', null, null, false],
    ['REPROVISION in capitals', null, { ...reprovision('2026-11-23T10:00:00Z'), actionName: 'Reprovision' }, true]
  ])('%s → %s', (_name, before, after, expected) => {
    expect(reprovisionStarted(before, pc(after))).toBe(expected)
  })

  it('is false when the Cloud PC could not be read', () => {
    expect(reprovisionStarted(null, undefined)).toBe(false)
  })
})

describe('settleWrite', () => {
  const lost = () => new OutcomeUnknownError('POST', '/x', 'socket hang up')
  const refused = () => new GraphError({ method: 'POST', path: '/x', status: 409, code: 'Conflict', message: 'exists' })

  function script(outcomes: (Error | 'ok')[], checks: ('done' | 'notDone')[], maxWrites?: number) {
    const calls: string[] = []
    const run = settleWrite<string>({
      what: 'Writing x',
      logger: new RecordingLogger(),
      maxWrites,
      write: async () => {
        const next = outcomes[calls.filter(c => c === 'write').length]
        calls.push('write')
        if (next instanceof Error) throw next
        return 'written'
      },
      check: async reason => {
        const next = checks[calls.filter(c => c.startsWith('check')).length]
        calls.push(`check ${reason}`)
        return next === 'done' ? { kind: 'done', value: 'seen' } : { kind: 'notDone' }
      }
    })
    return { run, calls }
  }

  it('returns what the write answered', async () => {
    const s = script(['ok'], [])
    await expect(s.run).resolves.toBe('written')
    expect(s.calls).toEqual(['write'])
  })

  it('reads after a lost answer and stops when the read shows the write took effect', async () => {
    const s = script([lost()], ['done'])
    await expect(s.run).resolves.toBe('seen')
    expect(s.calls).toEqual(['write', 'check lost'])
  })

  it('writes again only after a read shows it did not take effect, at most MAX_WRITES times', async () => {
    const s = script([lost(), lost(), lost(), 'ok'], ['notDone', 'notDone', 'notDone'])
    const error = await s.run.catch((e: unknown) => e)
    expect(s.calls.filter(c => c === 'write')).toHaveLength(MAX_WRITES)
    expect(s.calls).toEqual(['write', 'check lost', 'write', 'check lost', 'write', 'check lost'])
    expect((error as ActionError).message).toBe(
      'Writing x failed 3 times with no read showing it took effect (last: socket hang up). Run the workflow again later.'
    )
  })

  it('never sends twice a write that may be sent once', async () => {
    const s = script([lost(), 'ok'], ['notDone'], 1)
    const error = await s.run.catch((e: unknown) => e)
    expect(s.calls).toEqual(['write', 'check lost'])
    expect((error as ActionError).message).toBe(
      'Writing x: the answer was lost (socket hang up) and no read shows it took effect; it is not sent again.'
    )
  })

  it('settles a repeat the service refuses by a read, and lets the refusal stand when the read shows nothing', async () => {
    const done = script([lost(), refused()], ['notDone', 'done'])
    await expect(done.run).resolves.toBe('seen')
    expect(done.calls).toEqual(['write', 'check lost', 'write', 'check refusedRepeat'])
    const error = refused()
    const stands = script([lost(), error], ['notDone', 'notDone'])
    await expect(stands.run).rejects.toBe(error)
  })

  it('passes on a refusal of the first write without reading', async () => {
    const error = refused()
    const s = script([error], [])
    await expect(s.run).rejects.toBe(error)
    expect(s.calls).toEqual(['write'])
  })
})
