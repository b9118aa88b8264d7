import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import type { MoorEvent } from "../../adapters/bus/events.ts"
import { logCapture } from "../support/bus-testing.ts"

const at = "2026-03-01T12:00:00.000Z"
const appState = (scope: string, host: string, app: string): MoorEvent => ({
  type: "app.state",
  scope,
  host,
  app,
  previous: "pending",
  current: "running",
  specHash: "h1",
  runId: "r1",
  at
})
const heartbeat = (scope: string): MoorEvent => ({ type: "heartbeat", scope, at, lastPass: null })
const lifecycle = (scope: string, runId: string): MoorEvent => ({
  type: "run.lifecycle",
  scope,
  runId,
  host: "web1",
  trigger: "apply",
  previous: "running",
  status: "succeeded",
  at,
  summary: { actions: 3, done: 3, failed: 0, skipped: 0 }
})

/** The first `n` events of a stream, or a failure after 2 s. */
const take = (stream: Stream.Stream<MoorEvent>, n: number) =>
  stream.pipe(Stream.take(n), Stream.runCollect, Effect.timeout("2 seconds"))

describe("memory bus", () => {
  it.live("each subscriber receives exactly the events its pattern matches, in order", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const everything = yield* bus.subscribe(">")
      const prod = yield* bus.subscribe("moor.prod.>")
      const prodApps = yield* bus.subscribe("moor.prod.app.*.*.state")
      const web1 = yield* bus.subscribe("moor.*.app.web1.>")
      const events = [
        appState("prod", "web1", "shop"),
        heartbeat("prod"),
        appState("staging", "web1", "shop"),
        lifecycle("prod", "r7"),
        appState("prod", "web2", "blog")
      ]
      for (const event of events) yield* bus.publish(event)
      assert.deepStrictEqual(yield* take(everything, 5), events)
      assert.deepStrictEqual(yield* take(prod, 4), [events[0], events[1], events[3], events[4]])
      assert.deepStrictEqual(yield* take(prodApps, 2), [events[0], events[4]])
      assert.deepStrictEqual(yield* take(web1, 2), [events[0], events[2]])
    }).pipe(Effect.scoped, Effect.provide(Bus.layerFromUrl("memory")))
  )

  it.live("a subscription sees what is published after it starts, not before", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      yield* bus.publish(heartbeat("before"))
      const sub = yield* bus.subscribe(">")
      yield* bus.publish(heartbeat("after"))
      assert.deepStrictEqual(yield* take(sub, 1), [heartbeat("after")])
    }).pipe(Effect.scoped, Effect.provide(Bus.layerMemory))
  )

  it.live("an event that breaks the Schema is dropped with a warning, and publish still succeeds", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      const bus = yield* Bus
      const sub = yield* bus.subscribe(">")
      const broken = { ...heartbeat("prod"), at: "yesterday" }
      yield* bus.publish(broken)
      yield* bus.publish(heartbeat("prod"))
      assert.deepStrictEqual(yield* take(sub, 1), [heartbeat("prod")])
      const warning = logs.lines.find((line) => line.includes("not a moor event"))
      assert.isDefined(warning)
      assert.include(warning, "ISO 8601")
      assert.include(warning, '"WARN"')
    }).pipe(Effect.scoped, Effect.provide(Bus.layerMemory), Effect.provide(logs.layer))
  })

  it.live("a bad pattern is refused with the reason", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const error = yield* Effect.flip(bus.subscribe("moor.>.app"))
      assert.strictEqual(error.reason, "config")
      assert.include(error.message, '">" may only be the last token')
    }).pipe(Effect.scoped, Effect.provide(Bus.layerMemory))
  )

  it.live("a bus of webhooks only cannot be subscribed to, and says what to add", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const error = yield* Effect.flip(bus.subscribe("moor.>"))
      assert.strictEqual(error.reason, "unsupported")
      assert.include(error.message, "add memory or nats://host:port to MOOR_BUS")
    }).pipe(Effect.scoped, Effect.provide(Bus.layerFromUrl("webhook+http://127.0.0.1:9/hook")))
  )

  it.live("'none' publishes nowhere and does not fail", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      assert.deepStrictEqual(bus.targets, [])
      yield* bus.publish(heartbeat("prod"))
    }).pipe(Effect.provide(Bus.layerFromUrl("none")))
  )

  it.live("a slow subscriber loses the oldest events, never holds the publisher", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const sub = yield* bus.subscribe(">")
      for (let i = 0; i < 1500; i++) yield* bus.publish(lifecycle("prod", `r${i}`))
      const first = yield* take(sub, 1)
      assert.strictEqual(first[0]?.type === "run.lifecycle" && first[0].runId, "r476")
    }).pipe(Effect.scoped, Effect.provide(Bus.layerMemory))
  )
})
