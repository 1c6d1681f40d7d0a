// A loopback server in front of the emulator that answers like Graph, Entra or ARM but twists
// the answers: another entity, a redirect, a body that never ends, text that reads as a workflow
// command. The action is pointed at the proxy; the emulator behind it keeps the tenant's real
// state, which the judge compares with what the action did.

import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Upstream {
  status: number
  headers: Record<string, string>
  body: string
}

export interface ProxiedRequest {
  method: string
  /** Path and query, as sent. */
  url: string
  path: string
  headers: Record<string, string>
  body: string
}

export type Twisted =
  | { kind: 'reply'; status: number; headers?: Record<string, string>; body: string }
  /** Writes the answer itself: slow, endless or huge bodies. */
  | { kind: 'raw'; write: (res: ServerResponse) => void }

/** Decides the answer to one request; `forward` asks the emulator, possibly for another URL or method. */
export type Twist = (
  req: ProxiedRequest,
  forward: (override?: { url?: string; method?: string; body?: string }) => Promise<Upstream>
) => Promise<Twisted | undefined>

export interface HostileProxy {
  url: string
  requests: ProxiedRequest[]
  close(): Promise<void>
}

function read(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    stream.on('error', reject)
  })
}

function forwardTo(upstream: string, req: ProxiedRequest, override: { url?: string; method?: string; body?: string } = {}) {
  return new Promise<Upstream>((resolve, reject) => {
    const target = new URL(override.url ?? req.url, upstream)
    const body = override.body ?? req.body
    const headers = { ...req.headers, host: target.host, 'content-length': String(Buffer.byteLength(body)) }
    const r = httpRequest(target, { method: override.method ?? req.method, headers }, res => {
      read(res).then(
        text =>
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])
            ),
            body: text
          }),
        reject
      )
    })
    r.on('error', reject)
    r.end(body)
  })
}

/**
 * Starts a proxy to `upstream`. Answers pass through unchanged unless `twist` returns one; links in
 * bodies that name the upstream are rewritten to the proxy, so next pages come back through it.
 */
export async function startHostileProxy(upstream: string, twist: Twist, host = '127.0.0.1'): Promise<HostileProxy> {
  const requests: ProxiedRequest[] = []
  const sockets = new Set<import('node:net').Socket>()
  let url = ''
  const server: Server = createServer((req, res) => {
    void (async () => {
      const proxied: ProxiedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: new URL(req.url ?? '/', 'http://x').pathname,
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])
        ),
        body: await read(req)
      }
      requests.push(proxied)
      const forward = async (override?: { url?: string; method?: string; body?: string }) => {
        const answer = await forwardTo(upstream, proxied, override)
        return { ...answer, body: answer.body.split(upstream).join(url) }
      }
      const twisted = (await twist(proxied, forward)) ?? { kind: 'reply', ...(await forward()) }
      if (twisted.kind === 'raw') return twisted.write(res)
      const headers = { ...twisted.headers }
      delete headers['content-length']
      delete headers['transfer-encoding']
      delete headers.connection
      res.writeHead(twisted.status, { ...headers, 'content-length': String(Buffer.byteLength(twisted.body)) })
      res.end(twisted.body)
    })().catch(error => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    requests,
    close: () =>
      new Promise<void>(resolve => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/** A server that must never be reached: where a redirect points. Counts what reaches it. */
export async function startTrap(): Promise<{ url: string; hits: ProxiedRequest[]; close(): Promise<void> }> {
  const proxy = await startHostileProxy('http://127.0.0.1:9', async req => ({
    kind: 'reply',
    status: 200,
    body: JSON.stringify({ trapped: req.url })
  }))
  return { url: proxy.url, hits: proxy.requests, close: proxy.close }
}
