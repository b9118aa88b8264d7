/**
 * What a pass holds on each host while it runs, and fencing: an action starts on a host only while
 * the pass holds both the host's repo lease and its engine lock, and knows it will for a while yet.
 *
 * The leases are renewed every third of their TTL, the engine locks every third of their life
 * (engine-lock.ts), each in a fiber of the pass's scope. A lease another runner took, or a lock it
 * took over, is lost at once; one that could not be renewed is treated as lost a sixth of its life
 * before it expires, as others will take it over then. From that moment the pass starts no new
 * action on the host (they end skipped, "not started: ..."), lets the ones in flight finish, and its
 * run on the host reports why. Its engine lock stays renewed until the pass ends: a runner that took
 * over the repo lease still finds the engine locked while those actions finish, and waits.
 *
 * Engine locks are taken on demand (`lock`), once the plan has something to do on a host, and
 * removed when the pass's scope closes, after the renewing fibers have stopped.
 */
import { Duration, Effect, Result, Schedule } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { lockLifeOf, takeEngineLock } from "./engine-lock.ts"
import { expiresIn, type LeaseOptions, type Leases } from "./leases.ts"

export interface Hold {
  /** Hosts this pass leaves alone, with why: lease held elsewhere, engine lock held elsewhere or not to be had. */
  readonly leftAlone: ReadonlyMap<string, string>
  /**
   * Takes the engine lock of each of `hosts` this pass does not hold yet (waiting for a held one up
   * to the lease's `waitMs`); a host whose lock cannot be had is left alone. Whether it tried any.
   */
  readonly lock: (hosts: ReadonlyArray<string>) => Effect.Effect<boolean>
  /** Why an action on `host` must not start now ("not started: ..."); undefined while the pass holds the host. */
  readonly fence: (host: string) => Effect.Effect<string | undefined>
  /** Why the pass stopped acting on `host` (its lease or lock lost), for the host's run. */
  readonly lost: (host: string) => string | undefined
}

/** A dry run holds nothing and acts on nothing. */
export const dryRunHold: Hold = {
  leftAlone: new Map(),
  lock: () => Effect.succeed(false),
  fence: () => Effect.succeed("not started: a dry run changes nothing"),
  lost: () => undefined
}

export const holdHosts = (scope: string, leases: Leases, holder: string, options: LeaseOptions) =>
  Effect.gen(function* () {
    const repo = yield* Repo
    const docker = yield* Docker
    const ttl = options.ttlMs
    const life = lockLifeOf(ttl)
    const leaseUntil = new Map(leases.expiresAt)
    const locks = new Map<string, { readonly id: string; readonly until: number }>()
    const leftAlone = new Map(leases.busy)
    const lost = new Map<string, string>()
    const now = Effect.clockWith((c) => c.currentTimeMillis)

    // Registered before the renewing fibers are forked, so it runs after they are stopped.
    yield* Effect.addFinalizer(() =>
      Effect.forEach(locks, ([host, l]) => docker.unlock(host, l.id).pipe(Effect.ignore), { discard: true })
    )

    const renewLeases = Effect.suspend(() =>
      Effect.forEach(
        leases.held.filter((host) => !lost.has(host)),
        (host) =>
          repo.renewLease(scope, host, holder, ttl).pipe(
            Effect.tap((until) => Effect.sync(() => leaseUntil.set(host, until))),
            Effect.catch((e) =>
              e.kind === "lease-lost"
                ? Effect.sync(() => lost.set(host, `this runner lost its lease on host ${host}: ${e.message}`))
                : Effect.logWarning(`could not renew the lease on host ${host}: ${e.message}`)
            )
          ),
        { discard: true }
      )
    )

    const renewLocks = Effect.suspend(() =>
      Effect.forEach(
        [...locks],
        ([host, l]) =>
          Effect.gen(function* () {
            const r = yield* Effect.result(
              docker.renewLock(host, { scope, holder, id: l.id, expiresAt: (yield* now) + life })
            )
            if (Result.isFailure(r))
              yield* Effect.logWarning(`could not renew the engine lock on host ${host}: ${r.failure.message}`)
            else if (r.success._tag === "Renewed") locks.set(host, { id: l.id, until: r.success.expiresAt })
            else {
              locks.delete(host)
              lost.set(
                host,
                r.success.holder === undefined
                  ? `the engine lock on host ${host} was removed by someone else`
                  : `another moor (${r.success.holder}) took over the engine lock on host ${host}`
              )
            }
          }).pipe(Effect.uninterruptible),
        { discard: true }
      )
    )

    const every = (ms: number, renew: Effect.Effect<void>) => {
      const period = Duration.millis(Math.max(1000, Math.floor(ms / 3)))
      return renew.pipe(Effect.repeat(Schedule.spaced(period)), Effect.delay(period), Effect.forkScoped)
    }
    yield* every(ttl, renewLeases)
    yield* every(life, renewLocks)

    /** Why the pass must not act on `host` at `t`, if it must not. */
    const notHeld = (host: string, t: number): string | undefined => {
      const lease = leaseUntil.get(host)
      if (lease === undefined) return `this runner does not hold the lease on host ${host}`
      if (t >= lease - ttl / 6)
        return `this runner could not renew its lease on host ${host}, which ${expiresIn(lease, t)}`
      const l = locks.get(host)
      if (l === undefined) return `this runner does not hold the engine lock on host ${host}`
      if (t >= l.until - life / 6)
        return `this runner could not renew the engine lock on host ${host}, which ${expiresIn(l.until, t)}`
      return undefined
    }

    const lock = (hosts: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const wanted = [...new Set(hosts)]
          .filter((h) => leases.held.includes(h) && !locks.has(h) && !leftAlone.has(h) && !lost.has(h))
          .sort()
        if (wanted.length === 0) return false
        const deadline = (yield* now) + options.waitMs
        for (const host of wanted) {
          const r = yield* takeEngineLock(scope, host, holder, life, deadline)
          if (r._tag === "Locked") locks.set(host, { id: r.id, until: r.expiresAt })
          else leftAlone.set(host, r.why)
        }
        return true
      }).pipe(Effect.provideService(Docker, docker))

    const fence = (host: string) =>
      Effect.map(now, (t) => {
        const why = lost.get(host) ?? notHeld(host, t)
        if (why === undefined) return undefined
        lost.set(host, why)
        return `not started: ${why}`
      })

    return { leftAlone, lock, fence, lost: (host: string) => lost.get(host) } satisfies Hold
  })
