/**
 * A bus that is down or hangs must not hold a run: publish returns within the timeout, never fails,
 * and an outage costs one warning, not one per event.
 */
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Stream } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import type { MoorEvent } from "../../adapters/bus/events.ts"
import { logCapture, webhookReceiver } from "../support/bus-testing.ts"

const heartbeat = (n: number): MoorEvent => ({
  type: "heartbeat",
  scope: "prod",
  at: `2026-03-01T12:00:${String(n % 60).padStart(2, "0")}.000Z`,
  lastPass: null
})

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
const closedPort = Effect.callback<number>((resume) => {
  const server = createTcpServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A TCP server that accepts connections and never says a word (a NATS that hangs). */
const silentServer = Effect.acquireRelease(
  Effect.callback<{ port: number; close: () => void }>((resume) => {
    const sockets = new Set<Socket>()
    const server = createTcpServer((socket) => sockets.add(socket))
    server.listen(0, "127.0.0.1", () =>
      resume(
        Effect.succeed({
          port: (server.address() as AddressInfo).port,
          close: () => {
            for (const s of sockets) s.destroy()
            server.close()
          }
        })
      )
    )
  }),
  (server) => Effect.sync(server.close)
)

const warnings = (lines: ReadonlyArray<string>, text: string) =>
  lines.filter((line) => line.includes('"WARN"') && line.includes(text))

describe("publish against a bus that is down or hangs", () => {
  it.live("NATS refusing connections: the layer builds, every publish returns at once, one warning", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      const port = yield* closedPort
      const [elapsed] = yield* Effect.gen(function* () {
        const bus = yield* Bus
        for (let i = 0; i < 20; i++) yield* bus.publish(heartbeat(i))
      }).pipe(Effect.provide(Bus.layerFromUrl(`nats://127.0.0.1:${port}`, { timeout: "500 millis" })), Effect.timed)
      // The first publish waits for the first dial (refused at once); the others drop at once.
      assert.isBelow(Duration.toMillis(elapsed), 1500)
      assert.lengthOf(warnings(logs.lines, "event dropped"), 1)
      assert.lengthOf(warnings(logs.lines, "cannot connect"), 1)
      assert.lengthOf(warnings(logs.lines, "20 event(s) were dropped"), 1)
    }).pipe(Effect.provide(logs.layer))
  })

  it.live("NATS that accepts and never answers: publish returns within the timeout and does not fail", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      const server = yield* silentServer
      const [built, context] = yield* Effect.timed(
        Layer.build(Bus.layerFromUrl(`nats://127.0.0.1:${server.port}`, { timeout: "1 second" }))
      )
      assert.isBelow(Duration.toMillis(built), 500, "building the layer does not wait for NATS")
      const bus = Context.get(context, Bus)
      const [first] = yield* Effect.timed(bus.publish(heartbeat(1)))
      const [second] = yield* Effect.timed(bus.publish(heartbeat(2)))
      // The first waits for the first dial, which the timeout cuts; the outage is open after it.
      assert.isAtLeast(Duration.toMillis(first), 950)
      assert.isBelow(Duration.toMillis(first), 1600)
      assert.isBelow(Duration.toMillis(second), 300)
      assert.lengthOf(warnings(logs.lines, "event dropped"), 1)
    }).pipe(Effect.scoped, Effect.provide(logs.layer))
  })

  it.live("a webhook that hangs costs one timeout per outage, not one per event", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      const receiver = yield* webhookReceiver(() => "hang")
      yield* Effect.gen(function* () {
        const bus = yield* Bus
        const [first] = yield* Effect.timed(bus.publish(heartbeat(1)))
        assert.isAtLeast(Duration.toMillis(first), 290)
        assert.isBelow(Duration.toMillis(first), 800)
        assert.lengthOf(receiver.requests, 1, "a timeout is not retried")
        // The outage is open: the next events are tried in the background, one at a time.
        const [next] = yield* Effect.timed(Effect.forEach([2, 3, 4], (n) => bus.publish(heartbeat(n))))
        assert.isBelow(Duration.toMillis(next), 250)
        yield* receiver.waitFor(2)
      }).pipe(Effect.provide(Bus.layerFromUrl(`webhook+${receiver.url}`, { timeout: "300 millis" })))
      assert.lengthOf(receiver.requests, 2, "one background try at a time")
      const [warning] = warnings(logs.lines, "event dropped")
      assert.include(warning, "timeout: no answer within 300 ms")
      assert.include(warning, "moor.prod.heartbeat")
      assert.lengthOf(warnings(logs.lines, "event dropped"), 1)
      assert.lengthOf(warnings(logs.lines, "still down at shutdown; 4 event(s) were dropped"), 1)
    }).pipe(Effect.scoped, Effect.provide(logs.layer))
  })

  it.live("fan-out: memory still gets every event while NATS is down and the webhook hangs", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const receiver = yield* webhookReceiver(() => "hang")
      const url = `memory,nats://127.0.0.1:${port},webhook+${receiver.url}`
      yield* Effect.gen(function* () {
        const bus = yield* Bus
        assert.deepStrictEqual(bus.targets, ["memory", `nats nats://127.0.0.1:${port}`, `webhook ${receiver.url}`])
        const sub = yield* bus.subscribe("moor.prod.>")
        const [elapsed] = yield* Effect.timed(
          Effect.forEach([1, 2, 3], (n) => bus.publish(heartbeat(n)), { discard: true })
        )
        // One timeout for the first event; then both outages are open and nothing waits.
        assert.isBelow(Duration.toMillis(elapsed), 300 + 450)
        const got = yield* sub.pipe(Stream.take(3), Stream.runCollect, Effect.timeout("1 second"))
        assert.deepStrictEqual(got, [heartbeat(1), heartbeat(2), heartbeat(3)])
      }).pipe(Effect.scoped, Effect.provide(Bus.layerFromUrl(url, { timeout: "300 millis" })))
    }).pipe(Effect.scoped)
  )
})
