/**
 * Test support for the bus, usable by any test: a real HTTP webhook receiver on 127.0.0.1, and a
 * logger that keeps every log line (debug included) as JSON text.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Layer, Logger, References, Schedule, type Scope } from "effect"

export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The raw body, as the signature covers it. */
  readonly body: string
}

/** How the receiver answers its nth request (from 1): an HTTP status, or never. */
export type Answer = number | "hang"

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook` */
  readonly url: string
  readonly requests: ReadonlyArray<ReceivedRequest>
  /** Resolves once `count` requests have arrived; fails after `timeoutMs`. */
  readonly waitFor: (count: number, timeoutMs?: number) => Effect.Effect<ReadonlyArray<ReceivedRequest>, Error>
}

/** A node:http server on 127.0.0.1 and a free port, closed (hanging requests too) with the scope. */
export const webhookReceiver = (
  answer: (n: number) => Answer = () => 204
): Effect.Effect<WebhookReceiver, never, Scope.Scope> =>
  Effect.gen(function* () {
    const requests: Array<ReceivedRequest> = []
    const hanging = new Set<ServerResponse>()
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        requests.push({
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8")
        })
        const a = answer(requests.length)
        if (a === "hang") hanging.add(res)
        else res.writeHead(a).end()
      })
    })
    yield* Effect.acquireRelease(
      Effect.callback<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const res of hanging) res.destroy()
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const { port } = server.address() as AddressInfo
    /** Polls with Effect.sleep: run it on the live clock (`it.live`). */
    const waitFor = (count: number, timeoutMs = 5000) =>
      Effect.suspend(() =>
        requests.length >= count ? Effect.succeed([...requests]) : Effect.fail(new Error("not yet"))
      ).pipe(
        Effect.retry(Schedule.spaced("10 millis")),
        Effect.timeoutOrElse({
          duration: timeoutMs,
          orElse: () => Effect.fail(new Error(`the receiver got ${requests.length} request(s), expected ${count}`))
        })
      )
    return { url: `http://127.0.0.1:${port}/hook`, requests, waitFor }
  })

export interface LogCapture {
  /** Replaces the loggers and lowers the minimum level to Debug. */
  readonly layer: Layer.Layer<never>
  /** One JSON line per log entry: message, level, annotations, cause. */
  readonly lines: Array<string>
}

export const logCapture = (): LogCapture => {
  const lines: Array<string> = []
  const logger = Logger.map(Logger.formatJson, (line) => {
    lines.push(line)
  })
  return {
    lines,
    layer: Layer.mergeAll(Logger.layer([logger]), Layer.succeed(References.MinimumLogLevel, "Debug"))
  }
}
