import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'

/** Ids and time shared by a response's headers and its error body. */
export interface RequestContext {
  requestId: string
  clientRequestId: string
  date: Date
}

/** What a handler answers; written by `writeReply` once faults have had their say. */
export interface Reply {
  status: number
  json?: unknown
  /** Rendered as the answering service's error body. */
  error?: { code: string; message: string }
  /** Sent verbatim as application/json. */
  raw?: string
  headers?: Record<string, string>
}

interface WriteOptions {
  /** Graph answers in OData JSON; the token endpoint in plain JSON. */
  graph: boolean
  casing: 'camel' | 'pascal'
  preferenceApplied: boolean
}

const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'

const AGS_DIAGNOSTIC = JSON.stringify({
  ServerInfo: { DataCenter: 'Loopback', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'emulator', ADSiteName: 'LOC' }
})

export function errorReply(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return { status, error: { code, message }, headers }
}

/** Graph's own code for a bare status, used when a fault names none. */
export function defaultCode(status: number): string {
  const phrase = STATUS_CODES[status] ?? 'Unknown Error'
  return phrase.replace(/[^A-Za-z]/g, '')
}

export function caseCode(code: string, casing: 'camel' | 'pascal'): string {
  const first = casing === 'camel' ? code.charAt(0).toLowerCase() : code.charAt(0).toUpperCase()
  return first + code.slice(1)
}

export function wantsEvolvableEnums(prefer: string | undefined): boolean {
  return (prefer ?? '').split(',').some(p => p.trim().toLowerCase() === 'include-unknown-enum-members')
}

/** A malformed escape is kept as sent, so it can only fail to match, never throw. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** Writes the status and headers, then the body with its length. */
function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | undefined): void {
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * Azure Resource Manager's answer: plain JSON, errors as `{ "error": { "code", "message" } }`, and
 * its request and correlation ids (`ctx.clientRequestId` carries the correlation id).
 */
export function writeArmReply(res: ServerResponse, reply: Reply, ctx: RequestContext): void {
  const headers: Record<string, string> = {
    'x-ms-request-id': ctx.requestId,
    'x-ms-correlation-request-id': ctx.clientRequestId,
    date: ctx.date.toUTCString(),
    'cache-control': 'no-cache'
  }
  let body: string | undefined
  if (reply.raw !== undefined) {
    body = reply.raw
    headers['content-type'] = 'application/json'
  } else if (reply.error !== undefined || reply.json !== undefined) {
    body = JSON.stringify(reply.error === undefined ? reply.json : { error: reply.error })
    headers['content-type'] = 'application/json; charset=utf-8'
  }
  Object.assign(headers, reply.headers)
  send(res, reply.status, headers, body)
}

export function writeReply(res: ServerResponse, reply: Reply, ctx: RequestContext, opts: WriteOptions): void {
  const headers: Record<string, string> = {
    'request-id': ctx.requestId,
    'client-request-id': ctx.clientRequestId,
    date: ctx.date.toUTCString(),
    'x-ms-ags-diagnostic': AGS_DIAGNOSTIC
  }
  if (opts.graph) headers['odata-version'] = '4.0'
  if (opts.preferenceApplied) headers['preference-applied'] = 'include-unknown-enum-members'
  let body: string | undefined
  if (reply.raw !== undefined) {
    body = reply.raw
    headers['content-type'] = 'application/json'
  } else if (reply.error !== undefined || reply.json !== undefined) {
    const json =
      reply.error === undefined
        ? reply.json
        : {
            error: {
              code: caseCode(reply.error.code, opts.casing),
              message: reply.error.message,
              innerError: {
                date: ctx.date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
                'request-id': ctx.requestId,
                'client-request-id': ctx.clientRequestId
              }
            }
          }
    body = JSON.stringify(json)
    headers['content-type'] = opts.graph ? ODATA_JSON : 'application/json; charset=utf-8'
  }
  Object.assign(headers, reply.headers)
  send(res, reply.status, headers, body)
}
