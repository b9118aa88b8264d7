/** Observing the hosts of a pass: in parallel, with the instant and the restart history. */
import { Effect } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import type { FailedRollout, Observed, ObservedHost, PullRecord, RestartRecord } from "../../core/model/observed.ts"

export const observeHosts = Effect.fn("observeHosts")(function* (
  scope: string,
  hosts: ReadonlyArray<string>,
  /** Hosts not to touch in this pass (lease held elsewhere), with why: seen as unknown. */
  busy: ReadonlyMap<string, string>,
  restartWindowMs: number,
  /** When the pass started (pulls since then are this pass's). */
  passStartedAt?: number
) {
  const docker = yield* Docker
  const repo = yield* Repo
  const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
  const observed: Array<ObservedHost> = yield* Effect.forEach(
    hosts,
    (host): Effect.Effect<ObservedHost> => {
      const why = busy.get(host)
      return why === undefined
        ? docker.observe(host, scope)
        : Effect.succeed({ _tag: "Unreachable", host, reason: why })
    },
    { concurrency: 8 }
  )
  const restarts: Array<RestartRecord> = []
  const failedRollouts: Array<FailedRollout> = []
  const pulls: Array<PullRecord> = []
  for (const h of observed) {
    if (h._tag !== "Known") continue
    for (const p of yield* repo
      .pulls(scope, h.host)
      .pipe(Effect.catch((e) => Effect.as(Effect.logWarning(`pulls of ${h.host} unavailable: ${e.message}`), []))))
      pulls.push({ host: p.host, image: p.image, at: p.at })
    const rows = yield* repo
      .recentRestarts(scope, h.host, now - restartWindowMs)
      .pipe(
        Effect.catch((e) => Effect.as(Effect.logWarning(`restart history of ${h.host} unavailable: ${e.message}`), []))
      )
    for (const r of rows)
      restarts.push({ host: r.host, app: r.app, service: r.service, at: r.at, specHash: r.specHash })
    const failed = yield* repo
      .failedRollouts(scope, h.host)
      .pipe(
        Effect.catch((e) => Effect.as(Effect.logWarning(`failed rollouts of ${h.host} unavailable: ${e.message}`), []))
      )
    for (const f of failed) {
      failedRollouts.push({
        host: f.host,
        app: f.app,
        service: f.service,
        specHash: f.specHash,
        at: f.at,
        error: f.error
      })
    }
  }
  return {
    now,
    hosts: observed,
    restarts,
    failedRollouts,
    pulls,
    ...(passStartedAt === undefined ? {} : { passStartedAt })
  } satisfies Observed
})
