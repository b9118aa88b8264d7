/** Ids for passes and lease holders: sortable by time, unique enough across machines. */
import { Clock, Effect, Random } from "effect"
import { holderIdOf } from "./holder.ts"

const pad = (n: number, w = 2) => String(n).padStart(w, "0")

export const newPassId: Effect.Effect<string> = Effect.gen(function* () {
  const ms = yield* Clock.currentTimeMillis
  const d = new Date(ms)
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
  const rand = yield* Random.nextIntBetween(0, 36 ** 4)
  return `r${stamp}-${rand.toString(36).padStart(4, "0")}`
})

export const runIdOf = (passId: string, host: string): string => `${passId}-${host}`

/** This process, as a lease holder: `host:pid:random:key` (holder.ts). */
export const newHolderId: Effect.Effect<string> = Effect.map(Random.nextIntBetween(0, 36 ** 4), (rand) =>
  holderIdOf(rand.toString(36))
)
