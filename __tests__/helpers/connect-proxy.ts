import { createServer, type Server } from 'node:http'

/**
 * A loopback HTTPS proxy that records which host each CONNECT asks for and refuses it, so a test
 * can see where the action would send a request without anything leaving this machine.
 */
export async function startRecordingProxy(): Promise<{ url: string; hosts: string[]; close(): Promise<void> }> {
  const hosts: string[] = []
  const server: Server = createServer((req, res) => {
    hosts.push(`http ${req.url ?? ''}`)
    res.writeHead(403).end()
  })
  server.on('connect', (req, socket) => {
    hosts.push(req.url ?? '')
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    hosts,
    close: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}
