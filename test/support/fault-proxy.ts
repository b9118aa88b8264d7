/**
 * A fault-injecting proxy in front of the Docker API socket: a share of the requests get an
 * injected 500 or 409, are held until the connection drops (a timeout), are dropped at once, or
 * reach the engine but lose its answer; the others go through, streams and upgraded connections
 * (exec attach) included. Seeded, so a run can be replayed. Chosen requests can also be answered
 * by a script (`answer`), to replay a race exactly: what the engine says to the loser of one.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http"
import { connect, type Socket } from "node:net"
import { existsSync, rmSync } from "node:fs"

/** `lost`: the engine does the work, but its answer never arrives (the connection drops). */
export type Fault = "500" | "409" | "timeout" | "drop" | "lost"

/** The next `times` requests matching `method` and `path` (query string dropped) get this answer. */
export interface ScriptedAnswer {
  readonly method: string
  readonly path: RegExp
  readonly status: number
  readonly message: string
  readonly times: number
}

export interface FaultProxy {
  readonly socketPath: string
  /** `unix://<socketPath>`, for the Docker layer. */
  readonly endpoint: string
  /** Answers requests as scripted, before any random fault; scripts are used in the order given. */
  readonly answer: (script: ScriptedAnswer) => void
  /** How many scripted answers were given. */
  readonly answered: () => number
  readonly stats: () => { readonly requests: number; readonly faults: Readonly<Record<Fault, number>> }
  /** Stops injecting (requests go through) or starts again. */
  readonly setEnabled: (enabled: boolean) => void
  readonly close: () => Promise<void>
}

export interface FaultOptions {
  readonly upstream?: string
  /** Share of requests that get a fault, 0 to 1. */
  readonly share: number
  readonly seed: number
  /** How long a "timeout" holds a request before dropping it. */
  readonly holdMs?: number
  /** Only requests whose method and path match get faults (default: all but event and log streams). */
  readonly eligible?: (method: string, path: string) => boolean
}

/** mulberry32: small, seeded, good enough to spread faults. */
const random = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const defaultEligible = (_method: string, path: string) => !/\/(events|logs)\b/.test(path)

export const startFaultProxy = (socketPath: string, options: FaultOptions): Promise<FaultProxy> => {
  const upstream = options.upstream ?? "/var/run/docker.sock"
  const next = random(options.seed)
  const faults: Record<Fault, number> = { "500": 0, "409": 0, timeout: 0, drop: 0, lost: 0 }
  let requests = 0
  let enabled = true
  const eligible = options.eligible ?? defaultEligible
  const held = new Set<Socket>()
  const scripts: Array<{ readonly script: ScriptedAnswer; left: number }> = []
  let answered = 0
  const scripted = (method: string, url: string): ScriptedAnswer | undefined => {
    const path = url.split("?")[0] ?? url
    const hit = scripts.find((s) => s.left > 0 && s.script.method === method && s.script.path.test(path))
    if (hit === undefined) return undefined
    hit.left--
    answered++
    return hit.script
  }
  const pick = (method: string, path: string): Fault | undefined => {
    requests++
    if (!enabled || !eligible(method, path) || next() >= options.share) return undefined
    const kinds: ReadonlyArray<Fault> = ["500", "409", "timeout", "drop", "lost"]
    const fault = kinds[Math.floor(next() * kinds.length)]!
    faults[fault]++
    return fault
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const script = scripted(req.method ?? "GET", req.url ?? "/")
    if (script !== undefined) {
      req.resume()
      const body = JSON.stringify({ message: script.message })
      res.writeHead(script.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
      return
    }
    const fault = pick(req.method ?? "GET", req.url ?? "/")
    if (fault === "500" || fault === "409") {
      req.resume()
      const body = JSON.stringify({ message: fault === "500" ? "injected server error" : "Conflict: injected" })
      res.writeHead(Number(fault), { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
      return
    }
    if (fault === "drop") {
      req.socket.destroy()
      return
    }
    if (fault === "timeout") {
      held.add(req.socket)
      setTimeout(() => {
        held.delete(req.socket)
        req.socket.destroy()
      }, options.holdMs ?? 2000)
      return
    }
    const up = request({ socketPath: upstream, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
      if (fault === "lost") {
        upRes.resume()
        upRes.on("end", () => req.socket.destroy())
        return
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      upRes.pipe(res)
    })
    up.on("error", () => res.destroy())
    req.pipe(up)
  })
  // Upgraded connections (exec start with attach): raw bytes both ways after replaying the head.
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const fault = pick(req.method ?? "POST", req.url ?? "/")
    if (fault !== undefined) {
      socket.destroy()
      return
    }
    const up = connect(upstream, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      up.write(`${lines.join("\r\n")}\r\n\r\n`)
      if (head.length > 0) up.write(head)
      up.pipe(socket)
      socket.pipe(up)
    })
    up.on("error", () => socket.destroy())
    socket.on("error", () => up.destroy())
  })

  if (existsSync(socketPath)) rmSync(socketPath)
  return new Promise((resolve) => {
    server.listen(socketPath, () =>
      resolve({
        socketPath,
        endpoint: `unix://${socketPath}`,
        answer: (script) => {
          scripts.push({ script, left: script.times })
        },
        answered: () => answered,
        stats: () => ({ requests, faults: { ...faults } }),
        setEnabled: (on) => {
          enabled = on
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of held) s.destroy()
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    )
  })
}
