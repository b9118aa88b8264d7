/**
 * Open routes for probes and Prometheus (they reveal no secret and change nothing): they say how
 * things are, never an error's text. `GET /healthz` (the process answers; the last pass and its
 * outcome), `GET /readyz` (every engine and the state repository answer; asked at most once a
 * second, readiness.ts), `GET /metrics`.
 */
import { Effect, Layer } from "effect"
import { HttpMiddleware, HttpServerResponse } from "effect/http"
import { Heartbeat } from "./heartbeat.ts"
import { Metrics } from "./metrics.ts"
import { PassQueue } from "./pass-queue.ts"
import { Readiness } from "./readiness.ts"
import { json, resource } from "./respond.ts"
import { lastPassJson } from "./views.ts"

const now = Effect.clockWith((c) => c.currentTimeMillis)

const healthz = Effect.gen(function* () {
  const heartbeat = yield* Heartbeat
  const at = yield* now
  const counts = yield* (yield* PassQueue).counts
  return json(200, {
    status: "ok",
    lastPass: lastPassJson(yield* heartbeat.last, at),
    lastSuccess: lastPassJson(yield* heartbeat.lastSuccess, at),
    queue: counts
  })
})

const readyz = Effect.gen(function* () {
  const { ready, checks } = yield* (yield* Readiness).check
  return ready
    ? json(200, { status: "ready", checks })
    : json(503, { status: "not ready", error: "not ready", detail: checks })
})

const metrics = Effect.gen(function* () {
  const heartbeat = yield* Heartbeat
  const text = yield* (yield* Metrics).render({
    now: yield* now,
    last: yield* heartbeat.last,
    lastSuccess: yield* heartbeat.lastSuccess,
    queue: yield* (yield* PassQueue).counts
  })
  return HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
})

/** Probes and scrapes come every few seconds: not logged, unless not ready. */
const quiet = HttpMiddleware.withLoggerDisabled

export const healthRoutes = Layer.mergeAll(
  resource("/healthz", { GET: quiet(healthz) }),
  resource("/readyz", { GET: Effect.tap(readyz, (res) => (res.status === 200 ? quiet(Effect.void) : Effect.void)) }),
  resource("/metrics", { GET: quiet(metrics) })
)
