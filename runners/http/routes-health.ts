/**
 * Open routes for probes and Prometheus (they reveal no secret and change nothing):
 * `GET /healthz` (the process answers; the last pass), `GET /readyz` (every engine and the state
 * repository answer), `GET /metrics`.
 */
import { Duration, Effect, Layer } from "effect"
import { HttpMiddleware, HttpServerResponse } from "effect/http"
import { Docker } from "../../adapters/docker/Docker.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { Heartbeat } from "./heartbeat.ts"
import { Metrics } from "./metrics.ts"
import { PassQueue } from "./pass-queue.ts"
import { json, resource } from "./respond.ts"
import { lastPassJson } from "./views.ts"

const now = Effect.clockWith((c) => c.currentTimeMillis)
const CHECK_TIMEOUT = Duration.seconds(5)

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

const check = <E extends { readonly message: string }>(effect: Effect.Effect<void, E>) =>
  effect.pipe(
    Effect.as("ok"),
    Effect.timeoutOrElse({ duration: CHECK_TIMEOUT, orElse: () => Effect.succeed("no answer within 5 s") }),
    Effect.catch((e: E) => Effect.succeed(e.message))
  )

const readyz = Effect.gen(function* () {
  const docker = yield* Docker
  const repo = yield* Repo
  const results = yield* Effect.all(
    [
      ...docker.hosts.map((host) => Effect.map(check(docker.ping(host)), (r) => [`engine ${host}`, r] as const)),
      Effect.map(check(repo.ping), (r) => [`repo ${repo.backend}`, r] as const)
    ],
    { concurrency: "unbounded" }
  )
  const checks = Object.fromEntries(results)
  const ready = results.every(([, r]) => r === "ok")
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
