/**
 * The bus against a real nats-server: the one `npm run setup` starts (MOOR_TEST_NATS_URL, default
 * nats://127.0.0.1:54222), and servers this file starts and stops itself (Debian's nats-server,
 * which the setup installs) to see moor live through NATS being down at start and restarted.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { createServer, type AddressInfo } from "node:net"
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Schedule, Schema, type Scope, Stream } from "effect"
import { beforeAll } from "vitest"
import { Bus } from "../../adapters/bus/Bus.ts"
import { type MoorEvent, MoorEventFromJson } from "../../adapters/bus/events.ts"
import { logCapture } from "../support/bus-testing.ts"
import { scopePattern, topicOf } from "../../adapters/bus/topic.ts"
import { natsUrl, requireReachable, requireServers } from "../support/env.ts"

beforeAll(() => requireServers("nats"))

const at = "2026-03-01T12:00:00.000Z"
/** A scope of its own for each test, with a dot in it to go through the `~` rule. */
const freshScope = () => `e2e.bus-${randomBytes(4).toString("hex")}`

const appState = (scope: string, host: string, current: "pending" | "running"): MoorEvent => ({
  type: "app.state",
  scope,
  host,
  app: "shop",
  previous: current === "running" ? "pending" : null,
  current,
  specHash: "5f0c6a1e",
  runId: "r1",
  at
})
const lifecycle = (scope: string, status: "running" | "succeeded"): MoorEvent => ({
  type: "run.lifecycle",
  scope,
  runId: "r1",
  host: "web.1",
  trigger: "apply",
  previous: status === "running" ? "pending" : "running",
  status,
  at,
  ...(status === "succeeded" ? { summary: { actions: 2, done: 2, failed: 0, skipped: 0 } } : {})
})
/** Heartbeat number `n` (its last pass is run `r<n>`). */
const heartbeat = (scope: string, n: number): MoorEvent => ({
  type: "heartbeat",
  scope,
  at,
  lastPass: { runId: `r${n}`, outcome: "succeeded", finishedAt: at }
})
const numberOf = (event: MoorEvent): number =>
  event.type === "heartbeat" && event.lastPass !== null ? Number(event.lastPass.runId.slice(1)) : -1

interface Received {
  readonly subject: string
  readonly event: MoorEvent
}

/** A plain nats.js subscriber, not moor's code: what a consumer of moor's events sees. */
const rawSubscriberWith = (options: ConnectionOptions, subject: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const nc = await connect({ ...options, reconnectTimeWait: 100, maxReconnectAttempts: -1 })
      const received: Array<Received> = []
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err === null)
            received.push({ subject: msg.subject, event: Schema.decodeUnknownSync(MoorEventFromJson)(msg.string()) })
        }
      })
      await nc.flush()
      return { nc, received }
    }),
    ({ nc }) => Effect.promise(() => nc.close())
  )
const rawSubscriber = (url: string, subject: string) => rawSubscriberWith({ servers: url }, subject)

/** Polls until `predicate` holds, for at most `timeoutMs`. */
const eventually = (predicate: () => boolean, what: string, timeoutMs = 10_000) =>
  Effect.suspend(() => (predicate() ? Effect.void : Effect.fail(new Error(what)))).pipe(
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => Effect.fail(new Error(`timed out: ${what}`)) })
  )

const natsServerBin = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"].find(existsSync)

const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A nats-server of this test on `port`, stopped (SIGKILL: an abrupt loss) with the scope or by `stop`. */
const startNatsServer = (
  port: number,
  args: ReadonlyArray<string> = []
): Effect.Effect<{ readonly stop: Effect.Effect<void> }, Error, Scope.Scope> =>
  Effect.gen(function* () {
    if (natsServerBin === undefined)
      return yield* Effect.fail(new Error("nats-server is not installed: run `npm run setup`"))
    const child: ChildProcess = spawn(natsServerBin, ["-a", "127.0.0.1", "-p", String(port), ...args], {
      stdio: "ignore"
    })
    const stop = Effect.callback<void>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      child.once("exit", () => resume(Effect.void))
      child.kill("SIGKILL")
    })
    yield* Effect.addFinalizer(() => stop)
    yield* Effect.tryPromise({
      try: () => requireReachable("nats-server", `nats://127.0.0.1:${port}`, "it did not start"),
      catch: (e) => e as Error
    }).pipe(Effect.retry({ times: 50, schedule: Schedule.spaced("100 millis") }))
    return { stop }
  })

describe("NATS bus (real nats-server)", () => {
  it.live("a NATS subscriber on moor.<scope>.> receives exactly the events published, in order", () =>
    Effect.gen(function* () {
      const scope = freshScope()
      const other = freshScope()
      const sub = yield* rawSubscriber(natsUrl, scopePattern(scope))
      const events = [
        lifecycle(scope, "running"),
        appState(scope, "web.1", "pending"),
        appState(scope, "web.1", "running"),
        lifecycle(scope, "succeeded"),
        heartbeat(scope, 1)
      ]
      yield* Effect.gen(function* () {
        const bus = yield* Bus
        for (const event of [...events.slice(0, 2), heartbeat(other, 1), ...events.slice(2)]) yield* bus.publish(event)
      }).pipe(Effect.provide(Bus.layerFromUrl(natsUrl)))
      yield* eventually(() => sub.received.length >= events.length, "all events received")
      yield* Effect.sleep("300 millis") // anything extra would show up now
      assert.deepStrictEqual(
        sub.received,
        events.map((event) => ({ subject: topicOf(event), event }))
      )
      assert.strictEqual(sub.received[1]!.subject, `moor.${scope.replace(".", "~")}.app.web~1.shop.state`)
    }).pipe(Effect.scoped)
  )

  it.live("Bus.subscribe over NATS gets what other processes publish and skips what is not an event", () =>
    Effect.gen(function* () {
      const scope = freshScope()
      const bus = yield* Bus
      const stream = yield* bus.subscribe(topicOf(heartbeat(scope, 0)))
      const nc: NatsConnection = yield* Effect.acquireRelease(
        Effect.promise(() => connect({ servers: natsUrl })),
        (c) => Effect.promise(() => c.close())
      )
      const subject = topicOf(heartbeat(scope, 1))
      nc.publish(subject, "not json")
      nc.publish(subject, JSON.stringify({ type: "heartbeat", scope }))
      nc.publish(subject, JSON.stringify(heartbeat(scope, 2)))
      nc.publish(topicOf(lifecycle(scope, "running")), JSON.stringify(lifecycle(scope, "running")))
      yield* Effect.promise(() => nc.flush())
      yield* bus.publish(heartbeat(scope, 3))
      const got = yield* stream.pipe(Stream.take(2), Stream.runCollect, Effect.timeout("5 seconds"))
      assert.deepStrictEqual(got, [heartbeat(scope, 2), heartbeat(scope, 3)])
    }).pipe(Effect.scoped, Effect.provide(Bus.layerFromUrl(natsUrl)))
  )

  it.live("NATS down at start, then up, then restarted: moor never waits long, drops, then delivers again", () =>
    Effect.gen(function* () {
      const scope = freshScope()
      const port = yield* freePort
      const url = `nats://127.0.0.1:${port}`
      // Built in the test's scope: the bus lives until the test ends.
      const context = yield* Layer.build(
        Bus.layerFromUrl(url, { timeout: "500 millis", natsReconnectWait: "100 millis" })
      )
      const bus = Context.get(context, Bus)
      const publishTimed = (n: number) =>
        Effect.map(Effect.timed(bus.publish(heartbeat(scope, n))), ([d]) => Duration.toMillis(d))

      // Down: every publish returns, none takes longer than the timeout.
      for (let n = 0; n < 5; n++) assert.isBelow(yield* publishTimed(n), 700)

      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* startNatsServer(port)
          const sub = yield* rawSubscriber(url, scopePattern(scope))
          // Up: the background dial connects; publish until the subscriber hears one.
          let n = 100
          yield* eventually(() => sub.received.length > 0, "delivery after NATS came up", 15_000).pipe(
            Effect.raceFirst(
              Effect.forever(
                Effect.andThen(
                  Effect.suspend(() => publishTimed(n++)),
                  Effect.sleep("50 millis")
                )
              )
            )
          )
          const numbers = () => sub.received.map((r) => numberOf(r.event))
          assert.isTrue(
            numbers().every((k) => k >= 100),
            "events published while NATS was down are dropped, not replayed"
          )

          // Restart: an abrupt loss, events dropped quickly, then delivered again after the restart.
          yield* server.stop
          for (let k = 0; k < 5; k++) assert.isBelow(yield* publishTimed(200 + k), 700)
          yield* startNatsServer(port)
          const before = sub.received.length
          let m = 300
          yield* eventually(() => sub.received.length > before, "delivery after the restart", 15_000).pipe(
            Effect.raceFirst(
              Effect.forever(
                Effect.andThen(
                  Effect.suspend(() => publishTimed(m++)),
                  Effect.sleep("50 millis")
                )
              )
            )
          )
          assert.isTrue(
            numbers()
              .slice(before)
              .every((k) => k >= 300)
          )
        })
      )
    }).pipe(Effect.scoped)
  )

  it.live("a NATS that wants a user and password: taken from the URL, never logged", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      const scope = freshScope()
      const port = yield* freePort
      yield* startNatsServer(port, ["--user", "moor", "--pass", "pa55-w0rd"])
      const sub = yield* rawSubscriberWith(
        { servers: `nats://127.0.0.1:${port}`, user: "moor", pass: "pa55-w0rd" },
        scopePattern(scope)
      )
      const publishVia = (url: string, n: number) =>
        Effect.gen(function* () {
          yield* (yield* Bus).publish(heartbeat(scope, n))
        }).pipe(Effect.provide(Bus.layerFromUrl(url, { timeout: "1 second" })))
      yield* publishVia(`nats://moor:pa55-w0rd@127.0.0.1:${port}`, 1)
      yield* publishVia(`nats://moor:wrong-pa55@127.0.0.1:${port}`, 2)
      yield* eventually(() => sub.received.length >= 1, "the event sent with the right password")
      yield* Effect.sleep("200 millis")
      assert.deepStrictEqual(
        sub.received.map((r) => numberOf(r.event)),
        [1]
      )
      assert.isTrue(logs.lines.some((line) => line.includes("cannot connect") && line.includes("WARN")))
      for (const line of logs.lines) {
        assert.notInclude(line, "pa55-w0rd")
        assert.notInclude(line, "wrong-pa55")
      }
    }).pipe(Effect.scoped, Effect.provide(logs.layer))
  })
})
