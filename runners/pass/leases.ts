/**
 * One pass per (scope, host) at a time, across processes and machines: the pass takes each host's
 * lease, waits a bounded time for a held one, and keeps them renewed while it runs. A host whose
 * lease stays held is left alone in this pass.
 *
 * Leases are taken one host at a time, in host-name order. Two runners that both hold a lease and
 * wait for the other's (a takes `a`, b takes `b`, each then waits for the other host) would each
 * wait out `waitMs` and then leave the other's host alone; in one global order a runner only ever
 * waits while holding hosts that come before the one it waits for, so no such cycle can form.
 */
import { Duration, Effect, Schedule } from "effect"
import { hostname } from "node:os"
import { Repo } from "../../adapters/repo/Repo.ts"

export interface LeaseOptions {
  readonly ttlMs: number
  /** How long to wait for a held lease before leaving the host alone (0: do not wait). */
  readonly waitMs: number
}

export interface Leases {
  readonly held: ReadonlyArray<string>
  /** Hosts left alone, with why. */
  readonly busy: ReadonlyMap<string, string>
  /** Runs of a dead holder that were marked abandoned when its expired lease was taken over. */
  readonly abandoned: ReadonlyArray<string>
}

const POLL_MS = 500

/**
 * A holder is `machine:pid:token` (ids.ts). One that ran on this machine in a process that no longer
 * exists is dead: its lease need not wait for its TTL (a runner killed with -9, a crashed cron job).
 */
export const holderIsGone = (holder: string): boolean => {
  const [machine, pid] = holder.split(":")
  if (machine !== hostname() || pid === undefined || !/^\d+$/.test(pid) || Number(pid) === process.pid) return false
  try {
    process.kill(Number(pid), 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH"
  }
}

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
  // One deadline for all hosts: once it has passed, each remaining host gets a single try.
  const deadline = (yield* Effect.clockWith((c) => c.currentTimeMillis)) + options.waitMs
  for (const host of [...new Set(hosts)].sort()) {
    let takeOverFrom: string | undefined
    for (;;) {
      const r = yield* repo.acquireLease(scope, host, holder, options.ttlMs, { takeOverFrom })
      if (r._tag === "Acquired") {
        held.push(host)
        abandoned.push(...r.abandonedRuns)
        break
      }
      if (r.heldBy !== takeOverFrom && holderIsGone(r.heldBy)) {
        takeOverFrom = r.heldBy
        continue
      }
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      if (now >= deadline) {
        busy.set(
          host,
          `another moor (${r.heldBy}) is reconciling host ${host}; its lease expires in ${Math.max(0, Math.ceil((r.expiresAt - now) / 1000))}s`
        )
        break
      }
      yield* Effect.sleep(Duration.millis(Math.min(POLL_MS, deadline - now)))
    }
  }
  return { held: held.sort(), busy, abandoned } satisfies Leases
})

/** Keeps the leases renewed (every third of the TTL) for as long as the returned scope lives. */
export const keepLeases = (scope: string, hosts: ReadonlyArray<string>, holder: string, ttlMs: number) =>
  Effect.gen(function* () {
    const repo = yield* Repo
    yield* Effect.forEach(hosts, (host) => repo.renewLease(scope, host, holder, ttlMs), { discard: true }).pipe(
      Effect.catch((e) => Effect.logWarning(`could not renew a lease: ${e.message}`)),
      Effect.repeat(Schedule.spaced(Duration.millis(Math.max(1000, Math.floor(ttlMs / 3))))),
      Effect.delay(Duration.millis(Math.max(1000, Math.floor(ttlMs / 3)))),
      Effect.forkScoped
    )
  })

export const releaseLeases = (scope: string, hosts: ReadonlyArray<string>, holder: string) =>
  Effect.gen(function* () {
    const repo = yield* Repo
    yield* Effect.forEach(hosts, (host) => repo.releaseLease(scope, host, holder).pipe(Effect.ignore), {
      discard: true
    })
  })
