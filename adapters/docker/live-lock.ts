/**
 * The engine lock on a real engine (see `DockerShape.lock`): create `moor-lock-<scope>`; on a name
 * conflict, read the lock there (and its renewals) and take it again, take it over (remove it by id,
 * then create) or report it held. The empty image it is created from is imported the first time it
 * is missing.
 *
 * Every race on the lock ends in `Locked` or `Held`. The engine reserves a container's name before
 * the container can be read: a runner that loses the name to one being created (or removed) finds
 * nothing under it for a moment, and looks again after a short pause until it can say who holds it.
 * A lock being removed by another runner (409 "removal already in progress") is as good as removed.
 */
import { Duration, Effect, Result } from "effect"
import type { DockerError, EngineLock, LockRenewal, LockRequest, RenewedLock } from "./Docker.ts"
import { call, type CallOptions, type Connection } from "./connection.ts"
import { EMPTY_TAR, expiryOf, judgeLock, LOCK_IMAGE, lockLabels, lockName, RENEWAL_OF, renewalLabels } from "./lock.ts"
import { arr, rec, str, strMap } from "./parse-engine.ts"
import { type CallContext, type EngineCall, engineError } from "./translate-error.ts"

type Use = (
  host: string,
  op: EngineCall,
  target?: string
) => Effect.Effect<{ readonly conn: Connection; readonly ctx: CallContext }, DockerError>

/**
 * Tries at the lock before answering `Held` without naming the holder: the pauses between tries
 * (25 ms doubling up to 1 s) add up to about 9 s, far longer than the engine takes to create or
 * remove a container that has no process.
 */
const ATTEMPTS = 14
const pause = (attempt: number) => Effect.sleep(Duration.millis(Math.min(1000, 25 * 2 ** attempt)))

interface Found {
  readonly id: string
  readonly labels: Readonly<Record<string, string>>
}

export const makeLiveLock = (use: Use) => {
  const request = (host: string, op: EngineCall, target: string, options: CallOptions) =>
    Effect.flatMap(use(host, op, target), ({ conn, ctx }) => call(conn, ctx, options))

  const importImage = (host: string) => {
    const colon = LOCK_IMAGE.lastIndexOf(":")
    return request(host, "lock.image", LOCK_IMAGE, {
      method: "POST",
      path: "/images/create",
      query: { fromSrc: "-", repo: LOCK_IMAGE.slice(0, colon), tag: LOCK_IMAGE.slice(colon + 1) },
      file: Buffer.from(EMPTY_TAR)
    })
  }

  /** A container that is created and never started: the lock (named) or a renewal (no name). */
  const create = (host: string, op: EngineCall, target: string, labels: Record<string, string>, name?: string) =>
    Effect.gen(function* () {
      const created = yield* request(host, op, target, {
        method: "POST",
        path: "/containers/create",
        query: name === undefined ? {} : { name },
        body: {
          Image: LOCK_IMAGE,
          Cmd: ["moor-lock"],
          Labels: labels,
          NetworkDisabled: true,
          HostConfig: { NetworkMode: "none" }
        }
      })
      const id = str(rec(created).Id)
      if (id !== undefined) return id
      const { ctx } = yield* use(host, op, target)
      return yield* engineError(ctx, "transient", "the engine answered without a container id")
    })

  /** Removes a container of the lock by id: already gone (404) or being removed by another runner (409) is fine. */
  const remove = (host: string, id: string) =>
    request(host, "lock.remove", id, {
      method: "DELETE",
      path: `/containers/${encodeURIComponent(id)}`,
      query: { force: true },
      alsoOk: [404, 409]
    }).pipe(Effect.asVoid)

  /** The container under the lock's name now, if the engine shows one. */
  const find = (host: string, scope: string) =>
    request(host, "lock.inspect", lockName(scope), {
      method: "GET",
      path: `/containers/${encodeURIComponent(lockName(scope))}/json`
    }).pipe(
      Effect.map((raw): Found | undefined => ({
        id: str(rec(raw).Id) ?? "",
        labels: strMap(rec(rec(raw).Config).Labels)
      })),
      Effect.catchIf(
        (e) => e.kind === "not-found",
        () => Effect.succeed(undefined)
      )
    )

  const renewalsOf = (host: string, id: string) =>
    request(host, "lock.list", id, {
      method: "GET",
      path: "/containers/json",
      query: { all: true, filters: { label: [`${RENEWAL_OF}=${id}`] } }
    }).pipe(
      Effect.map((raw): ReadonlyArray<Found> =>
        arr(raw).map((c) => ({ id: str(rec(c).Id) ?? "", labels: strMap(rec(c).Labels) }))
      )
    )

  const latest = (renewals: ReadonlyArray<Found>) =>
    Math.max(Number.NEGATIVE_INFINITY, ...renewals.map((r) => expiryOf(r.labels)).filter(Number.isFinite))

  const lock = Effect.fn("Docker.lock")(function* (host: string, lock: LockRequest) {
    let last: DockerError | undefined
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const created = yield* Effect.result(
        create(host, "lock.create", lockName(lock.scope), lockLabels(lock), lockName(lock.scope))
      )
      if (Result.isSuccess(created)) return { _tag: "Locked", id: created.success, expiresAt: lock.expiresAt } as const
      last = created.failure
      if (last.kind === "not-found") {
        yield* importImage(host)
        continue
      }
      if (last.kind !== "conflict") return yield* last
      const found = yield* find(host, lock.scope)
      // The name is taken by a container the engine does not show yet (being created) or any more
      // (being removed): look again in a moment.
      if (found === undefined) {
        yield* pause(attempt)
        continue
      }
      const renewals = yield* renewalsOf(host, found.id)
      const verdict = judgeLock(found, lock, latest(renewals))
      if (verdict !== "take-over") return verdict
      yield* remove(host, found.id)
      yield* Effect.forEach(renewals, (r) => remove(host, r.id), { discard: true })
    }
    if (last?.kind !== "conflict") return yield* last ?? Effect.die(new Error("lock: no attempt made"))
    return {
      _tag: "Held",
      holder: `unknown (the engine kept the name ${lockName(lock.scope)} in use without showing its container)`,
      expiresAt: lock.now
    } satisfies EngineLock
  })

  const renewLock = Effect.fn("Docker.renewLock")(function* (host: string, renewal: LockRenewal) {
    // The new renewal first, then the check and the old renewals' removal: the lock is never free.
    const id = yield* create(host, "lock.renew", lockName(renewal.scope), renewalLabels(renewal))
    const found = yield* find(host, renewal.scope)
    if (found?.id !== renewal.id) {
      yield* remove(host, id)
      return { _tag: "Lost", holder: found?.labels["moor.lock.holder"] } satisfies RenewedLock
    }
    const older = (yield* renewalsOf(host, renewal.id)).filter((r) => r.id !== id)
    yield* Effect.forEach(older, (r) => remove(host, r.id), { discard: true })
    return { _tag: "Renewed", expiresAt: renewal.expiresAt } satisfies RenewedLock
  })

  const unlock = Effect.fn("Docker.unlock")(function* (host: string, id: string) {
    // The renewals first: a lock left behind then expires by its own label.
    const renewals = yield* renewalsOf(host, id)
    yield* Effect.forEach(renewals, (r) => remove(host, r.id), { discard: true })
    yield* remove(host, id)
  })

  return { lock, renewLock, unlock }
}
