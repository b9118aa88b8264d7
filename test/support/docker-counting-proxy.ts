/**
 * A tiny HTTP proxy on a unix socket in front of the real engine's socket, recording every request
 * (method and path) that reaches it: the test counts API calls on the wire, whatever the client does.
 */
import { mkdtempSync, rmSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface CountingProxy {
  /** `unix:///tmp/.../docker.sock` */
  readonly endpoint: string
  /** `GET /containers/json`, ... (query strings dropped), in arrival order. */
  readonly requests: () => ReadonlyArray<string>
  readonly reset: () => void
  readonly close: () => Promise<void>
}

/**
 * `at`: listen on that socket path (its directory must exist; the caller removes it), e.g. to bring
 * back an engine at the address a client knows after closing the proxy there.
 */
export const startCountingProxy = async (
  upstreamSocket = "/var/run/docker.sock",
  at?: string
): Promise<CountingProxy> => {
  const dir = at === undefined ? mkdtempSync(join(tmpdir(), "moor-docker-proxy-")) : undefined
  const socketPath = at ?? join(dir!, "docker.sock")
  let seen: Array<string> = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${(req.url ?? "").split("?")[0]}`)
    const upstream = http.request(
      { socketPath: upstreamSocket, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      }
    )
    upstream.on("error", (e) => {
      res.writeHead(502)
      res.end(String(e))
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  return {
    endpoint: `unix://${socketPath}`,
    requests: () => [...seen],
    reset: () => {
      seen = []
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    }
  }
}
