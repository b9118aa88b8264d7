/**
 * The engine lock's rules, shared by the live and the in-memory engine: its name, its labels, and
 * what a runner does when it finds one (take it again, take it over, or leave the host alone).
 */
import type { EngineLock, LockRequest } from "./Docker.ts"

export const LOCK_IMAGE = "moor-lock:1"
/** An empty tar archive (two zero blocks): the whole of the lock image's file system. */
export const EMPTY_TAR = new Uint8Array(1024)

export const lockName = (scope: string): string => `moor-lock-${scope}`

export const lockLabels = (request: LockRequest): Record<string, string> => ({
  "moor.lock": request.scope,
  "moor.lock.holder": request.holder,
  "moor.lock.expires": String(request.expiresAt)
})

/**
 * A lock found in place of ours: ours already (a retry after a lost answer), one to take over (it
 * expired, or its holder is known to be dead), or held. A container of that name that moor did not
 * make is never touched: it holds the scope until someone removes it.
 */
export const judgeLock = (
  labels: Readonly<Record<string, string>>,
  request: LockRequest
): "mine" | "take-over" | Extract<EngineLock, { _tag: "Held" }> => {
  const holder = labels["moor.lock.holder"]
  const expires = Number(labels["moor.lock.expires"])
  if (labels["moor.lock"] !== request.scope || holder === undefined || !Number.isFinite(expires))
    return {
      _tag: "Held",
      holder: `a container named ${lockName(request.scope)} that moor did not make (remove it to let moor in)`,
      expiresAt: Number.POSITIVE_INFINITY
    }
  if (holder === request.holder) return "mine"
  if (expires <= request.now || holder === request.takeOverFrom) return "take-over"
  return { _tag: "Held", holder, expiresAt: expires }
}
