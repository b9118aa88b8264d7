/**
 * `Readiness`: whether every engine and the state repository answer, for `GET /readyz`. The route
 * is open to anyone, so it says how things are in a word per check (`ok`, `unreachable`, `timeout`,
 * ...), never an error's text (which names sockets, hosts and users; the server's log has it); and
 * it asks the engines at most once a second, however often it is called: callers within a second of
 * the last check get its answer, and callers during a check wait for it.
 */
import { Context, Duration, Effect, Layer, Semaphore } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { Repo } from "../../adapters/repo/Repo.ts"

export interface ReadinessReport {
  readonly ready: boolean
  /** `engine <host>` and `repo <backend>`: `ok`, or what kind of failure. */
  readonly checks: Readonly<Record<string, string>>
}

export interface ReadinessShape {
  readonly check: Effect.Effect<ReadinessReport>
}

/** How long an answer is reused: the engines are asked at most once in this time. */
export const READINESS_TTL_MS = 1000
const CHECK_TIMEOUT = Duration.seconds(5)

/** A check's word: `ok`, the error's kind, or `timeout`; the error's text goes to the log only. */
const check = <E extends { readonly kind: string; readonly message: string }>(
  name: string,
  effect: Effect.Effect<void, E>
): Effect.Effect<readonly [string, string]> =>
  effect.pipe(
    Effect.as("ok"),
    Effect.timeoutOrElse({ duration: CHECK_TIMEOUT, orElse: () => Effect.succeed("timeout") }),
    Effect.catch((e: E) => Effect.as(Effect.logWarning(`readyz: ${name}: ${e.message}`), e.kind)),
    Effect.map((word) => [name, word] as const)
  )

export class Readiness extends Context.Service<Readiness, ReadinessShape>()("moor/http/Readiness") {
  static readonly layer: Layer.Layer<Readiness, never, Docker | Repo> = Layer.effect(
    Readiness,
    Effect.gen(function* () {
      const docker = yield* Docker
      const repo = yield* Repo
      const one = yield* Semaphore.make(1)
      const now = Effect.clockWith((c) => c.currentTimeMillis)
      let last: { readonly at: number; readonly report: ReadinessReport } | undefined
      const fresh = Effect.all(
        [
          ...docker.hosts.map((host) => check(`engine ${host}`, docker.ping(host))),
          check(`repo ${repo.backend}`, repo.ping)
        ],
        { concurrency: "unbounded" }
      ).pipe(
        Effect.map((results) => ({ ready: results.every(([, r]) => r === "ok"), checks: Object.fromEntries(results) }))
      )
      return Readiness.of({
        check: one.withPermits(1)(
          Effect.gen(function* () {
            const at = yield* now
            if (last !== undefined && at - last.at < READINESS_TTL_MS) return last.report
            // A caller that goes away does not cut the check short: the next one would start another.
            const report = yield* Effect.uninterruptible(fresh)
            last = { at, report }
            return report
          })
        )
      })
    })
  )
}
