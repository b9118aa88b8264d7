/**
 * One pass per (scope, host) at a time, across processes and machines: the pass takes each host's
 * lease, waits a bounded time for a held one, and keeps them renewed while it runs (hold.ts). A host
 * whose lease stays held is left alone in this pass.
 *
 * Leases are taken one host at a time, in host-name order. Two runners that both hold a lease and
 * wait for the other's (a takes `a`, b takes `b`, each then waits for the other host) would each
 * wait out `waitMs` and then leave the other's host alone; in one global order a runner only ever
 * waits while holding hosts that come before the one it waits for, so no such cycle can form.
 *
 * The repo lease only keeps out runners that record to the same repository. Before it acts on a
 * host, a pass also takes that engine's own lock (engine-lock.ts), which keeps out every other runner
 * on that engine.
 */
import { Duration, Effect } from "effect"
import { Repo } from "../../adapters/repo/Repo.ts"
import { holderIsGone } from "./holder.ts"

export interface LeaseOptions {
  readonly ttlMs: number
  /** How long to wait for a held lease or engine lock before leaving the host alone (0: do not wait). */
  readonly waitMs: number
}

export interface Leases {
  readonly held: ReadonlyArray<string>
  /** Hosts left alone, with why. */
  readonly busy: ReadonlyMap<string, string>
  /** Runs of a dead holder that were marked abandoned when its expired lease was taken over. */
  readonly abandoned: ReadonlyArray<string>
  /** When each held lease expires unless it is renewed. */
  readonly expiresAt: ReadonlyMap<string, number>
}

/** How often a held lease or engine lock is asked for again while waiting. */
export const POLL_MS = 500

export const expiresIn = (expiresAt: number, now: number): string =>
  Number.isFinite(expiresAt) ? `expires in ${Math.max(0, Math.ceil((expiresAt - now) / 1000))}s` : "does not expire"

export const acquireLeases = Effect.fn("acquireLeases")(function* (
  scope: string,
  hosts: ReadonlyArray<string>,
  holder: string,
  options: LeaseOptions
) {
  const repo = yield* Repo
  const held: Array<string> = []
  const busy = new Map<string, string>()
  const abandoned: Array<string> = []
  const expiresAt = new Map<string, number>()
  const clock = Effect.clockWith((c) => c.currentTimeMillis)
  // One deadline for all hosts: once it has passed, each remaining host gets a single try.
  const deadline = (yield* clock) + options.waitMs
  const wait = (now: number) => Effect.sleep(Duration.millis(Math.min(POLL_MS, deadline - now)))
  for (const host of [...new Set(hosts)].sort()) {
    let takeOverFrom: string | undefined
    for (;;) {
      const r = yield* repo.acquireLease(scope, host, holder, options.ttlMs, { takeOverFrom })
      if (r._tag === "Acquired") {
        abandoned.push(...r.abandonedRuns)
        held.push(host)
        expiresAt.set(host, r.expiresAt)
        break
      }
      if (r.heldBy !== takeOverFrom && holderIsGone(r.heldBy)) {
        takeOverFrom = r.heldBy
        continue
      }
      const now = yield* clock
      if (now >= deadline) {
        busy.set(
          host,
          `another moor (${r.heldBy}) is reconciling host ${host}; its lease ${expiresIn(r.expiresAt, now)}`
        )
        break
      }
      yield* wait(now)
    }
  }
  return { held: held.sort(), busy, abandoned, expiresAt } satisfies Leases
})

export const releaseLeases = (scope: string, hosts: ReadonlyArray<string>, holder: string) =>
  Effect.gen(function* () {
    const repo = yield* Repo
    yield* Effect.forEach(hosts, (host) => repo.releaseLease(scope, host, holder).pipe(Effect.ignore), {
      discard: true
    })
  })
