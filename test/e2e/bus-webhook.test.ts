/**
 * A run's events through every bus at once, configured as a user would (MOOR_BUS and friends): a real
 * HTTP receiver (node:http on 127.0.0.1) checks each POST's signature, a plain NATS subscriber and an
 * in-process subscriber see the same events in the same order.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { connect } from "@nats-io/transport-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schema, Stream } from "effect"
import { beforeAll } from "vitest"
import { Bus } from "../../adapters/bus/Bus.ts"
import { eventTime, type MoorEvent, MoorEventFromJson } from "../../adapters/bus/events.ts"
import { logCapture, webhookReceiver } from "../support/bus-testing.ts"
import { scopePattern, topicOf } from "../../adapters/bus/topic.ts"
import { natsUrl, requireServers } from "../support/env.ts"

beforeAll(() => requireServers("nats"))

const secret = `e2e-${randomBytes(12).toString("hex")}`

const signatureOk = (body: string, header: unknown): boolean => {
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`)
  const given = Buffer.from(typeof header === "string" ? header : "")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The events of one small run, stamped with the Clock as a runner does. */
const runEvents = (scope: string) =>
  Effect.gen(function* () {
    const at = yield* eventTime
    const base = { scope, runId: "r-e2e", host: "web.1", trigger: "apply", at } as const
    const events: ReadonlyArray<MoorEvent> = [
      { type: "run.lifecycle", ...base, previous: null, status: "pending" },
      { type: "run.lifecycle", ...base, previous: "pending", status: "running" },
      {
        type: "app.state",
        scope,
        host: "web.1",
        app: "shop",
        previous: null,
        current: "running",
        specHash: "5f0c6a1e",
        runId: "r-e2e",
        at
      },
      {
        type: "run.lifecycle",
        ...base,
        previous: "running",
        status: "succeeded",
        summary: { actions: 3, done: 3, failed: 0, skipped: 0 }
      },
      { type: "heartbeat", scope, at, lastPass: { runId: "r-e2e", outcome: "succeeded", finishedAt: at } }
    ]
    return events
  })

describe("every bus at once (memory, real NATS, real HTTP receiver)", () => {
  it.live("each bus gets the run's events in order; every POST is signed with the secret", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      const scope = `e2e.fanout-${randomBytes(4).toString("hex")}`
      const receiver = yield* webhookReceiver()
      const nc = yield* Effect.acquireRelease(
        Effect.promise(() => connect({ servers: natsUrl })),
        (c) => Effect.promise(() => c.close())
      )
      const fromNats: Array<MoorEvent> = []
      nc.subscribe(scopePattern(scope), {
        callback: (err, msg) => {
          if (err === null) fromNats.push(Schema.decodeUnknownSync(MoorEventFromJson)(msg.string()))
        }
      })
      yield* Effect.promise(() => nc.flush())

      const env = ConfigProvider.fromEnvRecord({
        MOOR_BUS: `memory,${natsUrl},webhook+${receiver.url}`,
        MOOR_BUS_WEBHOOK_SECRET: secret
      })
      const events = yield* runEvents(scope)
      const fromMemory = yield* Effect.gen(function* () {
        const bus = yield* Bus
        assert.deepStrictEqual(bus.targets, ["memory", `nats ${natsUrl}`, `webhook ${receiver.url}`])
        const memory = yield* bus.subscribe(scopePattern(scope))
        for (const event of events) yield* bus.publish(event)
        return yield* memory.pipe(Stream.take(events.length), Stream.runCollect, Effect.timeout("5 seconds"))
      }).pipe(Effect.scoped, Effect.provide(Bus.layerFromEnv.pipe(Layer.provide(ConfigProvider.layer(env)))))

      assert.deepStrictEqual(fromMemory, events)
      yield* Effect.sleep("10 millis").pipe(
        Effect.repeat({ until: () => fromNats.length >= events.length }),
        Effect.timeout("5 seconds")
      )
      assert.deepStrictEqual(fromNats, events)
      const posts = yield* receiver.waitFor(events.length)
      assert.lengthOf(posts, events.length)
      for (const [i, post] of posts.entries()) {
        const event = events[i]!
        assert.isTrue(signatureOk(post.body, post.headers["x-moor-signature-256"]), `POST ${i + 1} signature`)
        assert.strictEqual(post.headers["x-moor-event"], event.type)
        assert.strictEqual(post.headers["x-moor-topic"], topicOf(event))
        assert.deepStrictEqual(Schema.decodeUnknownSync(MoorEventFromJson)(post.body), event)
      }
      assert.isTrue(logs.lines.length > 0)
      for (const line of logs.lines) assert.notInclude(line, secret)
    }).pipe(Effect.scoped, Effect.provide(logs.layer))
  })
})
