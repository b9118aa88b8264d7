/**
 * The engine lock's rules, shared by the live and the in-memory engine: its name, its labels, and
 * what a runner does when it finds one (take it again, take it over, or leave the host alone).
 */
import type { EngineLock, LockRenewal, LockRequest } from "./Docker.ts"

export const LOCK_IMAGE = "moor-lock:1"
/** An empty tar archive (two zero blocks): the whole of the lock image's file system. */
export const EMPTY_TAR = new Uint8Array(1024)

export const lockName = (scope: string): string => `moor-lock-${scope}`

export const lockLabels = (request: LockRequest): Record<string, string> => ({
  "moor.lock": request.scope,
  "moor.lock.holder": request.holder,
  "moor.lock.expires": String(request.expiresAt)
})

/** The label that ties a renewal to its lock (by the lock container's id). */
export const RENEWAL_OF = "moor.lock.of"

/** A renewal: the lock's labels with the new expiry, and the lock it renews. */
export const renewalLabels = (renewal: LockRenewal): Record<string, string> => ({
  ...lockLabels({ scope: renewal.scope, holder: renewal.holder, now: 0, expiresAt: renewal.expiresAt }),
  [RENEWAL_OF]: renewal.id
})

/** The expiry a lock's or renewal's labels carry (NaN when there is none). */
export const expiryOf = (labels: Readonly<Record<string, string>>): number => Number(labels["moor.lock.expires"])

/**
 * A lock found in place of ours: ours already and still valid (a retry after a lost answer, a later
 * pass of the same holder), one to take over (it expired, or its holder is known to be dead), or
 * held. It expires at the latest of its own label and its renewals' (`renewedUntil`). A container of
 * that name that moor did not make is never touched: it holds the scope until someone removes it.
 */
export const judgeLock = (
  found: { readonly id: string; readonly labels: Readonly<Record<string, string>> },
  request: LockRequest,
  renewedUntil = Number.NEGATIVE_INFINITY
): "take-over" | EngineLock => {
  const holder = found.labels["moor.lock.holder"]
  const own = expiryOf(found.labels)
  if (found.labels["moor.lock"] !== request.scope || holder === undefined || !Number.isFinite(own))
    return {
      _tag: "Held",
      holder: `a container named ${lockName(request.scope)} that moor did not make (remove it to let moor in)`,
      expiresAt: Number.POSITIVE_INFINITY
    }
  const expiresAt = Math.max(own, renewedUntil)
  if (expiresAt <= request.now || holder === request.takeOverFrom) return "take-over"
  if (holder === request.holder) return { _tag: "Locked", id: found.id, expiresAt }
  return { _tag: "Held", holder, expiresAt }
}
