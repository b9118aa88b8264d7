/**
 * The in-process bus: a sliding PubSub. Publishing never waits; a subscriber that falls more than
 * `capacity` events behind loses the oldest ones.
 */
import { Effect, PubSub, type Scope, Stream } from "effect"
import type { Backend, Outgoing } from "./backend.ts"
import { matchesPattern } from "./topic.ts"

export const memoryBackend = (capacity = 1024): Effect.Effect<Backend, never, Scope.Scope> =>
  Effect.gen(function* () {
    const hub = yield* Effect.acquireRelease(PubSub.sliding<Outgoing>(capacity), PubSub.shutdown)
    return {
      name: "memory",
      send: (message) => Effect.asVoid(PubSub.publish(hub, message)),
      subscribe: (pattern) =>
        Effect.map(PubSub.subscribe(hub), (subscription) =>
          Stream.fromSubscription(subscription).pipe(
            Stream.filter((message) => matchesPattern(pattern, message.topic)),
            Stream.map((message) => message.event)
          )
        )
    }
  })
