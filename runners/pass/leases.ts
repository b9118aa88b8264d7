/**
 * One pass per (scope, host) at a time, across processes and machines: the pass takes each host's
 * lease, waits a bounded time for a held one, and keeps them renewed while it runs. A host whose
 * lease stays held is left alone in this pass.
 *
 * Leases are taken one host at a time, in host-name order. Two runners that both hold a lease and
 * wait for the other's (a takes `a`, b takes `b`, each then waits for the other host) would each
 * wait out `waitMs` and then leave the other's host alone; in one global order a runner only ever
 * waits while holding hosts that come before the one it waits for, so no such cycle can form.
 *
 * The repo lease only keeps out runners that record to the same repository. Each host's engine also
 * holds a lock of its own (`Docker.lock`), taken after the lease and under the same deadline, which
 * keeps out every other runner on that engine: two cron jobs on different SQLite files, a laptop
 * and a server. It expires after `ENGINE_LOCK_MIN_MS` at the least (it cannot be renewed), is taken
 * over at once from a holder that died on this machine, that is an earlier pass of this process, or
 * whose repo lease expired, and is removed when the pass ends.
 */
import { Duration, Effect, Result, Schedule } from "effect"
import { hostname } from "node:os"
import { Docker, type DockerError, isRetryable } from "../../adapters/docker/Docker.ts"
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
  /** The engine lock taken on each held host (none on an engine that did not answer). */
  readonly locks: ReadonlyMap<string, string>
}

const POLL_MS = 500
/** The engine lock's life: it cannot be renewed, so it outlasts any pass moor expects to run. */
export const ENGINE_LOCK_MIN_MS = 10 * 60_000

const expiresIn = (expiresAt: number, now: number): string =>
  Number.isFinite(expiresAt) ? `expires in ${Math.max(0, Math.ceil((expiresAt - now) / 1000))}s` : "does not expire"

/**
 * A holder is `machine:pid:token` (ids.ts). One that ran on this machine in a process that no longer
 * exists is dead: its lease need not wait for its TTL (a runner killed with -9, a crashed cron job).
 */
export const holderIsGone = (holder: string): boolean => {
  const pid = localPid(holder)
  if (pid === undefined || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH"
  }
}

/**
 * A holder in this very process: an earlier pass of a watch loop or server whose engine went away
 * before it could remove its lock. This process's passes are kept apart by the repo's lease (taken
 * first), so its engine locks are its own to take over.
 */
export const isThisProcess = (holder: string): boolean => localPid(holder) === process.pid

/** The process id of a holder that ran on this machine (`machine:pid:token`); undefined for any other. */
const localPid = (holder: string): number | undefined => {
  const [machine, pid] = holder.split(":")
  return machine === hostname() && pid !== undefined && /^\d+$/.test(pid) ? Number(pid) : undefined
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
  const locks = new Map<string, string>()
  const clock = Effect.clockWith((c) => c.currentTimeMillis)
  // One deadline for all hosts: once it has passed, each remaining host gets a single try.
  const deadline = (yield* clock) + options.waitMs
  const wait = (now: number) => Effect.sleep(Duration.millis(Math.min(POLL_MS, deadline - now)))
  for (const host of [...new Set(hosts)].sort()) {
    let takeOverFrom: string | undefined
    let previousHolder: string | undefined
    for (;;) {
      const r = yield* repo.acquireLease(scope, host, holder, options.ttlMs, { takeOverFrom })
      if (r._tag === "Acquired") {
        previousHolder = r.previousHolder
        abandoned.push(...r.abandonedRuns)
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
    if (busy.has(host)) continue
    const locked = yield* engineLock(scope, host, holder, options.ttlMs, deadline, previousHolder)
    if (locked._tag === "Busy") {
      busy.set(host, locked.why)
      yield* repo.releaseLease(scope, host, holder).pipe(Effect.ignore)
      continue
    }
    held.push(host)
    if (locked.id !== undefined) locks.set(host, locked.id)
  }
  return { held: held.sort(), busy, abandoned, locks } satisfies Leases
})

/**
 * The engine's lock on `host`, waiting for it until `deadline`. An engine that does not answer gives
 * no lock and no refusal: the pass finds the host unreachable and changes nothing there.
 */
const engineLock = (
  scope: string,
  host: string,
  holder: string,
  ttlMs: number,
  deadline: number,
  expiredHolder: string | undefined
) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    let takeOverFrom = expiredHolder
    for (;;) {
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const expiresAt = now + Math.max(ttlMs, ENGINE_LOCK_MIN_MS)
      const r = yield* docker
        .lock(host, { scope, holder, now, expiresAt, takeOverFrom })
        .pipe(
          Effect.retry({ times: 3, schedule: Schedule.exponential("200 millis"), while: isRetryable }),
          Effect.result
        )
      if (Result.isFailure(r)) return failedLock(host, r.failure)
      if (r.success._tag === "Locked") return { _tag: "Locked", id: r.success.id } as const
      const { holder: other, expiresAt: theirs } = r.success
      if (other !== takeOverFrom && (holderIsGone(other) || isThisProcess(other))) {
        takeOverFrom = other
        continue
      }
      if (now >= deadline)
        return {
          _tag: "Busy",
          why: `another moor (${other}) holds the engine lock of scope ${scope} on host ${host}; it ${expiresIn(theirs, now)}`
        } as const
      yield* Effect.sleep(Duration.millis(Math.min(POLL_MS, deadline - now)))
    }
  })

const failedLock = (host: string, e: DockerError) =>
  e.kind === "unreachable"
    ? ({ _tag: "Locked", id: undefined } as const)
    : ({ _tag: "Busy", why: `could not take the engine lock on host ${host}: ${e.message}` } as const)

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

export const releaseLeases = (
  scope: string,
  hosts: ReadonlyArray<string>,
  holder: string,
  locks: ReadonlyMap<string, string>
) =>
  Effect.gen(function* () {
    const repo = yield* Repo
    const docker = yield* Docker
    // The engine lock first: a runner waiting on this repo's lease then finds the engine free too.
    yield* Effect.forEach(locks, ([host, id]) => docker.unlock(host, id).pipe(Effect.ignore), { discard: true })
    yield* Effect.forEach(hosts, (host) => repo.releaseLease(scope, host, holder).pipe(Effect.ignore), {
      discard: true
    })
  })
