import { createHmac, timingSafeEqual } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, Schema } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { MoorEventFromJson, type MoorEvent } from "../../adapters/bus/events.ts"
import { logCapture, webhookReceiver } from "../support/bus-testing.ts"

const secret = "wh-secret-7f3a9c1e5b"
const event: MoorEvent = {
  type: "run.lifecycle",
  scope: "prod",
  runId: "r-42",
  host: "web.1",
  trigger: "webhook",
  previous: "running",
  status: "failed",
  at: "2026-03-01T12:00:00.000Z",
  summary: { actions: 4, done: 2, failed: 1, skipped: 1 },
  error: "pull-image moor-fixture/app:3: not found"
}

/** What a receiver does, written from scratch: HMAC-SHA256 of the raw body, compared in constant time. */
const verifies = (key: string, body: string, header: string | undefined): boolean => {
  const expected = Buffer.from(`sha256=${createHmac("sha256", key).update(body).digest("hex")}`)
  const given = Buffer.from(header ?? "")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const fromEnv = (env: Record<string, string>) =>
  Bus.layerFromEnv.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))))

describe("webhook bus", () => {
  it.live("POSTs the event as JSON with its type, topic and a signature that verifies with the secret", () =>
    Effect.gen(function* () {
      const receiver = yield* webhookReceiver()
      yield* Effect.gen(function* () {
        yield* (yield* Bus).publish(event)
      }).pipe(Effect.provide(Bus.layerFromUrl(`webhook+${receiver.url}`, { webhookSecret: Redacted.make(secret) })))
      const [request] = yield* receiver.waitFor(1)
      assert.strictEqual(request!.method, "POST")
      assert.strictEqual(request!.path, "/hook")
      assert.strictEqual(request!.headers["content-type"], "application/json")
      assert.strictEqual(request!.headers["x-moor-event"], "run.lifecycle")
      assert.strictEqual(request!.headers["x-moor-topic"], "moor.prod.run.r-42.lifecycle")
      assert.match(String(request!.headers["x-moor-delivery"]), /^[0-9a-f-]{36}$/)
      assert.deepStrictEqual(Schema.decodeUnknownSync(MoorEventFromJson)(request!.body), event)
      const signature = request!.headers["x-moor-signature-256"] as string
      assert.isTrue(verifies(secret, request!.body, signature))
      assert.isFalse(verifies("another-secret", request!.body, signature))
      assert.isFalse(verifies(secret, request!.body.replace("failed", "succeeded"), signature))
    }).pipe(Effect.scoped)
  )

  it.live("reads MOOR_BUS_WEBHOOK_URL and MOOR_BUS_WEBHOOK_SECRET, and never logs the secret", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      let n = 0
      // 503, then the retry gets 503 too: the first event is dropped; the next ones arrive.
      const receiver = yield* webhookReceiver(() => (++n <= 2 ? 503 : 200))
      yield* Effect.gen(function* () {
        const bus = yield* Bus
        assert.deepStrictEqual(bus.targets, ["memory", `webhook ${receiver.url}`])
        yield* bus.publish(event)
        yield* bus.publish({ ...event, status: "abandoned" })
        yield* receiver.waitFor(3)
        yield* bus.publish({ ...event, status: "succeeded" })
      }).pipe(
        Effect.provide(
          fromEnv({
            MOOR_BUS: "memory",
            MOOR_BUS_WEBHOOK_URL: receiver.url,
            MOOR_BUS_WEBHOOK_SECRET: secret,
            // What is checked here is delivery and logging, not the deadline: a loaded CI machine
            // can take longer than the 2 s default for the first fetch of a process.
            MOOR_BUS_TIMEOUT_MS: "30000"
          })
        )
      )
      assert.lengthOf(receiver.requests, 4)
      for (const request of receiver.requests)
        assert.isTrue(verifies(secret, request.body, request.headers["x-moor-signature-256"] as string))
      assert.isTrue(logs.lines.some((line) => line.includes("HTTP 503")))
      assert.isTrue(logs.lines.some((line) => line.includes("delivers again; 1 event(s) were dropped")))
      assert.isAbove(logs.lines.length, 2)
      for (const line of logs.lines) assert.notInclude(line, secret)
    }).pipe(Effect.scoped, Effect.provide(logs.layer))
  })

  it.live("retries once on a 5xx with the same delivery id, never on a 4xx, follows no redirect", () =>
    Effect.gen(function* () {
      const flaky = yield* webhookReceiver((n) => (n === 1 ? 502 : 204))
      const refusing = yield* webhookReceiver(() => 400)
      const redirecting = yield* webhookReceiver(() => 302)
      yield* Effect.gen(function* () {
        yield* (yield* Bus).publish(event)
      }).pipe(
        Effect.provide(Bus.layerFromUrl(`webhook+${flaky.url},webhook+${refusing.url},webhook+${redirecting.url}`))
      )
      assert.lengthOf(redirecting.requests, 1)
      assert.lengthOf(flaky.requests, 2)
      assert.strictEqual(flaky.requests[0]!.headers["x-moor-delivery"], flaky.requests[1]!.headers["x-moor-delivery"])
      assert.strictEqual(flaky.requests[0]!.body, flaky.requests[1]!.body)
      assert.lengthOf(refusing.requests, 1)
    }).pipe(Effect.scoped)
  )

  it.live("without a secret, events go unsigned and the bus warns once at start", () => {
    const logs = logCapture()
    return Effect.gen(function* () {
      const receiver = yield* webhookReceiver()
      yield* Effect.gen(function* () {
        yield* (yield* Bus).publish(event)
      }).pipe(Effect.provide(fromEnv({ MOOR_BUS: `webhook+${receiver.url}` })))
      const [request] = yield* receiver.waitFor(1)
      assert.isUndefined(request!.headers["x-moor-signature-256"])
      assert.lengthOf(
        logs.lines.filter((line) => line.includes("not signed: set MOOR_BUS_WEBHOOK_SECRET")),
        1
      )
    }).pipe(Effect.scoped, Effect.provide(logs.layer))
  })
})
