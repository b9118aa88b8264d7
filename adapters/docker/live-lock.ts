/**
 * The engine lock on a real engine (see `DockerShape.lock`): create `moor-lock-<scope>`; on a name
 * conflict, read the lock there and take it again, take it over (remove it by id, then create) or
 * report it held. The empty image it is created from is imported the first time it is missing.
 */
import { Effect, Result } from "effect"
import type { DockerError, EngineLock, LockRequest } from "./Docker.ts"
import { call, type CallOptions, type Connection } from "./connection.ts"
import { EMPTY_TAR, judgeLock, LOCK_IMAGE, lockLabels, lockName } from "./lock.ts"
import { rec, str, strMap } from "./parse-engine.ts"
import { type CallContext, type EngineCall, engineError } from "./translate-error.ts"

type Use = (
  host: string,
  op: EngineCall,
  target?: string
) => Effect.Effect<{ readonly conn: Connection; readonly ctx: CallContext }, DockerError>

/** Attempts at creating the lock before giving up: each lost race or takeover costs one. */
const ATTEMPTS = 8
/**
 * The engine reserves a container's name before the container can be inspected: a runner that lost
 * the race may not see the winner's lock yet (Docker 26 shows it for every loser of eight concurrent
 * creates, 20.10 for some). It waits a little, more each time, before it looks again.
 */
const notVisibleYet = (attempt: number) => Effect.sleep(Math.min(50 * 2 ** attempt, 1_000))

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

  const create = (host: string, lock: LockRequest) =>
    request(host, "lock.create", lockName(lock.scope), {
      method: "POST",
      path: "/containers/create",
      query: { name: lockName(lock.scope) },
      body: {
        Image: LOCK_IMAGE,
        Cmd: ["moor-lock"],
        Labels: lockLabels(lock),
        NetworkDisabled: true,
        HostConfig: { NetworkMode: "none" }
      }
    })

  const remove = (host: string, id: string) =>
    request(host, "lock.remove", id, {
      method: "DELETE",
      path: `/containers/${encodeURIComponent(id)}`,
      query: { force: true },
      alsoOk: [404]
    }).pipe(Effect.asVoid)

  const find = (host: string, scope: string) =>
    request(host, "lock.inspect", lockName(scope), {
      method: "GET",
      path: `/containers/${encodeURIComponent(lockName(scope))}/json`
    }).pipe(
      Effect.map((raw) => {
        const id = str(rec(raw).Id) ?? ""
        const labels = strMap(rec(rec(raw).Config).Labels)
        return { id, labels }
      }),
      Effect.catchIf(
        (e) => e.kind === "not-found",
        () => Effect.succeed(undefined)
      )
    )

  const lock = Effect.fn("Docker.lock")(function* (host: string, lock: LockRequest) {
    let last: DockerError | undefined
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const created = yield* Effect.result(create(host, lock))
      if (Result.isSuccess(created)) {
        const id = str(rec(created.success).Id)
        if (id !== undefined) return { _tag: "Locked", id } satisfies EngineLock
        const { ctx } = yield* use(host, "lock.create", lockName(lock.scope))
        return yield* engineError(ctx, "transient", "the engine answered without a container id")
      }
      last = created.failure
      if (last.kind === "not-found") {
        yield* importImage(host)
        continue
      }
      if (last.kind !== "conflict") return yield* last
      const found = yield* find(host, lock.scope)
      if (found === undefined) {
        yield* notVisibleYet(attempt)
        continue
      }
      const verdict = judgeLock(found.labels, lock)
      if (verdict === "mine") return { _tag: "Locked", id: found.id } satisfies EngineLock
      if (verdict !== "take-over") return verdict
      yield* remove(host, found.id)
    }
    // Every attempt lost a race to another runner's lock that then went away again.
    return yield* last ?? Effect.die(new Error("lock: no attempt made"))
  })

  const unlock = Effect.fn("Docker.unlock")(function* (host: string, id: string) {
    yield* remove(host, id)
  })

  return { lock, unlock }
}
