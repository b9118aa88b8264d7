/** The engine lock in the in-memory engine: the same rules as the live one (lock.ts), one call each. */
import { Effect } from "effect"
import type { DockerError, EngineLock, LockRenewal, LockRequest, RenewedLock } from "./Docker.ts"
import { judgeLock, lockLabels } from "./lock.ts"
import { type HostState, hexId } from "./memory-state.ts"
import type { EngineCall } from "./translate-error.ts"

/** `gate` of memory-docker.ts: the host, after its reachability and injected failures are checked. */
type Gate = (host: string, op: EngineCall, target?: string) => Effect.Effect<{ readonly h: HostState }, DockerError>

export const makeMemoryLock = (gate: Gate) => ({
  lock: Effect.fn("Docker.lock")(function* (host: string, request: LockRequest) {
    const { h } = yield* gate(host, "lock.create", request.scope)
    const found = h.locks.get(request.scope)
    if (found !== undefined) {
      const verdict = judgeLock(found, request, found.renewedUntil)
      if (verdict !== "take-over") return verdict
    }
    h.counter++
    const id = hexId(`${host}/lock/${h.counter}/${request.scope}`)
    h.locks.set(request.scope, { id, labels: lockLabels(request) })
    return { _tag: "Locked", id, expiresAt: request.expiresAt } satisfies EngineLock
  }),
  renewLock: Effect.fn("Docker.renewLock")(function* (host: string, renewal: LockRenewal) {
    const { h } = yield* gate(host, "lock.renew", renewal.scope)
    const found = h.locks.get(renewal.scope)
    if (found?.id !== renewal.id)
      return { _tag: "Lost", holder: found?.labels["moor.lock.holder"] } satisfies RenewedLock
    found.renewedUntil = renewal.expiresAt
    return { _tag: "Renewed", expiresAt: renewal.expiresAt } satisfies RenewedLock
  }),
  unlock: Effect.fn("Docker.unlock")(function* (host: string, id: string) {
    const { h } = yield* gate(host, "lock.remove", id)
    for (const [scope, lock] of h.locks) if (lock.id === id) h.locks.delete(scope)
  })
})
