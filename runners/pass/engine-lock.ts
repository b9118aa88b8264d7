/**
 * The engine's own lock on a host (`Docker.lock`), which keeps out every other runner on that engine
 * whatever repository it records to: two cron jobs on different SQLite files, a laptop and a server.
 * A pass takes it only once its plan has something to do on the host, waits for a held one until its
 * deadline, keeps it renewed while it acts (hold.ts), and removes it when it ends.
 *
 * A held lock is taken over at once only from a holder known to be gone (holder.ts), or from an
 * earlier pass of this very process; otherwise only once it has expired. Its holder's repo lease
 * having expired is no reason: a runner that cannot reach its repository keeps renewing the lock while
 * its actions in flight finish, and nobody may act beside them.
 */
import { Duration, Effect, Result, Schedule } from "effect"
import { Docker, type DockerError, isRetryable } from "../../adapters/docker/Docker.ts"
import { holderIsGone, isThisProcess } from "./holder.ts"
import { expiresIn, POLL_MS } from "./leases.ts"

/** The engine lock's shortest life; it lives as long as the lease's TTL otherwise, and is renewed every third of it. */
export const ENGINE_LOCK_MIN_MS = 30_000

export const lockLifeOf = (ttlMs: number): number => Math.max(ttlMs, ENGINE_LOCK_MIN_MS)

export type TakenLock =
  | { readonly _tag: "Locked"; readonly id: string; readonly expiresAt: number }
  | { readonly _tag: "Busy"; readonly why: string }

/**
 * The engine's lock on `host`, waiting for it until `deadline`. An engine that does not answer gives
 * no lock: the host is left alone in this pass, never acted on without one.
 */
export const takeEngineLock = (scope: string, host: string, holder: string, lifeMs: number, deadline: number) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    let takeOverFrom: string | undefined
    for (;;) {
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const r = yield* docker
        .lock(host, { scope, holder, now, expiresAt: now + lifeMs, takeOverFrom })
        .pipe(
          Effect.retry({ times: 3, schedule: Schedule.exponential("200 millis"), while: isRetryable }),
          Effect.result
        )
      if (Result.isFailure(r)) return failedLock(host, r.failure)
      if (r.success._tag === "Locked") return r.success satisfies TakenLock
      const { holder: other, expiresAt: theirs } = r.success
      if (other !== takeOverFrom && (holderIsGone(other) || isThisProcess(other))) {
        takeOverFrom = other
        continue
      }
      if (now >= deadline)
        return {
          _tag: "Busy",
          why: `another moor (${other}) holds the engine lock of scope ${scope} on host ${host}; it ${expiresIn(theirs, now)}`
        } satisfies TakenLock
      yield* Effect.sleep(Duration.millis(Math.min(POLL_MS, deadline - now)))
    }
  })

const failedLock = (host: string, e: DockerError): TakenLock => ({
  _tag: "Busy",
  why: `could not take the engine lock on host ${host}, so nothing on it was changed: ${e.message}`
})
