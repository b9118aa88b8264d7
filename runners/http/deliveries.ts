/**
 * `Deliveries`: GitHub delivery ids (`X-GitHub-Delivery`) already handled, so a redelivery is
 * acknowledged and not acted on twice. In memory, bounded (the oldest ids are forgotten first); a
 * restart forgets them, which at worst runs one more pass (passes are idempotent).
 */
import { Context, Effect, Layer } from "effect"

export interface DeliveriesShape {
  /** `true` when the id is new (it is now claimed), `false` when it was seen (or is being handled). */
  readonly claim: (id: string) => Effect.Effect<boolean>
  /** Forgets a claimed id whose handling did not succeed, so that a redelivery is handled. */
  readonly release: (id: string) => Effect.Effect<void>
}

export const DEFAULT_DELIVERY_MEMORY = 10_000

export class Deliveries extends Context.Service<Deliveries, DeliveriesShape>()("moor/http/Deliveries") {
  static readonly layerWith = (capacity: number): Layer.Layer<Deliveries> =>
    Layer.sync(Deliveries, () => {
      // A Map keeps insertion order: the first key is the oldest.
      const seen = new Map<string, true>()
      return Deliveries.of({
        claim: (id) =>
          Effect.sync(() => {
            if (seen.has(id)) return false
            seen.set(id, true)
            while (seen.size > capacity) {
              const oldest = seen.keys().next()
              if (oldest.done === true) break
              seen.delete(oldest.value)
            }
            return true
          }),
        release: (id) =>
          Effect.sync(() => {
            seen.delete(id)
          })
      })
    })

  static readonly layer: Layer.Layer<Deliveries> = Deliveries.layerWith(DEFAULT_DELIVERY_MEMORY)
}
