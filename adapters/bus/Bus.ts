/**
 * The `Bus` service: moor tells the world what changes (app states, runs, the watch loop's
 * heartbeat). Best effort: the state repository is the source of truth. `publish` never fails and
 * never holds a run longer than the publish timeout (2 s by default); a bus that is down or slow
 * costs a warning and the event. Topics and the escaping of names: ./topic.ts; payloads:
 * ./events.ts; people's documentation: docs/events.md.
 *
 * Selected by `MOOR_BUS` (see ./config.ts): `memory` (default), `none`, `nats://host:port[,...]`,
 * `webhook+https://...`, or several separated by commas (each event goes to all of them).
 */
import {
  Context,
  type Duration,
  Effect,
  Layer,
  Option,
  type Redacted,
  Result,
  Schema,
  type Scope,
  type Stream
} from "effect"
import { type Backend, makeDelivery, type Outgoing } from "./backend.ts"
import { BusError } from "./BusError.ts"
import { type BusTarget, BusSettings, parseBusUrl, targetsOf } from "./config.ts"
import { MoorEvent } from "./events.ts"
import { memoryBackend } from "./memory.ts"
import { natsBackend } from "./nats.ts"
import { patternProblem, topicOf } from "./topic.ts"
import { webhookBackend } from "./webhook.ts"

export { BusError } from "./BusError.ts"

export interface BusShape {
  /**
   * Sends the event to every bus at once and returns when all have taken it or the timeout is up.
   * Never fails: an invalid event, a bus that is down, slow or refusing is logged and the event dropped.
   */
  readonly publish: (event: MoorEvent) => Effect.Effect<void>
  /**
   * Events whose topic matches `pattern` (NATS style: `*` one token, `>` the rest), received from the
   * moment the effect completes until its scope closes. Served by the first bus in `MOOR_BUS` that
   * can (memory: this process's events; NATS: everyone's). Fails with `BusError` for a bad pattern,
   * when no bus can be subscribed to (webhooks only), or when NATS is not connected.
   */
  readonly subscribe: (pattern: string) => Effect.Effect<Stream.Stream<MoorEvent>, BusError, Scope.Scope>
  /** The buses, as logged: `memory`, `nats nats://127.0.0.1:4222`, `webhook https://example.com/hook`. */
  readonly targets: ReadonlyArray<string>
}

export interface BusOptions {
  /** How long one publish may take, all buses together. Default 2 seconds. */
  readonly timeout?: Duration.Input | undefined
  /** The webhook signing key. Default: MOOR_BUS_WEBHOOK_SECRET when set; unset means unsigned. */
  readonly webhookSecret?: Redacted.Redacted<string> | undefined
  /** NATS: wait between reconnect attempts once connected. Default 1 second. */
  readonly natsReconnectWait?: Duration.Input | undefined
}

const defaultTimeout: Duration.Input = "2 seconds"

const busError = (op: string, reason: BusError["reason"], message: string) =>
  new BusError({ backend: "bus", op, reason, message })

const makeBus = (backends: ReadonlyArray<Backend>, timeout: Duration.Input) =>
  Effect.gen(function* () {
    const deliveries = yield* Effect.forEach(backends, (backend) => makeDelivery(backend, timeout))
    const publish = Effect.fn("Bus.publish")(function* (event: MoorEvent) {
      const checked = Schema.decodeUnknownResult(MoorEvent)(event)
      if (Result.isFailure(checked)) {
        return yield* Effect.logWarning(
          `event bus: dropped an event that is not a moor event: ${checked.failure.message}`
        )
      }
      const valid = checked.success
      const message: Outgoing = { event: valid, topic: topicOf(valid), body: JSON.stringify(valid) }
      yield* Effect.annotateCurrentSpan("topic", message.topic)
      yield* Effect.forEach(deliveries, (deliver) => deliver(message), { concurrency: "unbounded", discard: true })
    })
    const subscribe = (pattern: string) => {
      const problem = patternProblem(pattern)
      if (problem !== undefined) return Effect.fail(busError("subscribe", "config", problem))
      const source = backends.find((backend) => backend.subscribe !== undefined)
      if (source?.subscribe === undefined) {
        const names = backends.length === 0 ? "none" : backends.map((b) => b.name).join(", ")
        return Effect.fail(
          busError(
            "subscribe",
            "unsupported",
            `no bus here can be subscribed to (MOOR_BUS: ${names}): add memory or nats://host:port to MOOR_BUS`
          )
        )
      }
      return source.subscribe(pattern)
    }
    return { publish, subscribe, targets: backends.map((b) => b.name) } satisfies BusShape
  })

const secretFromEnv: Effect.Effect<Redacted.Redacted<string> | undefined> = BusSettings.pipe(
  Effect.map((settings) => Option.getOrUndefined(settings.webhookSecret)),
  Effect.orElseSucceed(() => undefined)
)

const buildBackend = (target: BusTarget, options: BusOptions, secret: Redacted.Redacted<string> | undefined) => {
  switch (target.kind) {
    case "memory":
      return memoryBackend()
    case "nats":
      return natsBackend(target.servers, {
        connectTimeout: options.timeout ?? defaultTimeout,
        reconnectWait: options.natsReconnectWait
      })
    case "webhook":
      return Effect.succeed(webhookBackend(target.url, secret))
  }
}

const makeFromTargets = (targets: ReadonlyArray<BusTarget>, options: BusOptions) =>
  Effect.gen(function* () {
    const needsSecret = targets.some((t) => t.kind === "webhook")
    const secret = options.webhookSecret ?? (needsSecret ? yield* secretFromEnv : undefined)
    const backends = yield* Effect.forEach(targets, (target) => buildBackend(target, options, secret))
    const bus = yield* makeBus(backends, options.timeout ?? defaultTimeout)
    yield* Effect.logDebug(`event bus: ${bus.targets.length === 0 ? "none" : bus.targets.join(", ")}`)
    if (needsSecret && secret === undefined)
      yield* Effect.logWarning("event bus: webhook events are not signed: set MOOR_BUS_WEBHOOK_SECRET")
    return bus
  })

const parseOrFail = (result: Result.Result<ReadonlyArray<BusTarget>, string>) =>
  Result.isFailure(result)
    ? Effect.fail(busError("configure", "config", result.failure))
    : Effect.succeed(result.success)

export class Bus extends Context.Service<Bus, BusShape>()("moor/Bus") {
  /** The buses `url` names (MOOR_BUS syntax). Fails only when `url` is not valid, never because a server is down. */
  static readonly layerFromUrl = (url: string, options: BusOptions = {}): Layer.Layer<Bus, BusError> =>
    Layer.effect(
      Bus,
      Effect.flatMap(parseOrFail(parseBusUrl(url)), (targets) => makeFromTargets(targets, options))
    )

  /** MOOR_BUS, MOOR_BUS_WEBHOOK_URL, MOOR_BUS_WEBHOOK_SECRET, MOOR_BUS_TIMEOUT_MS from the ConfigProvider (the environment). */
  static readonly layerFromEnv: Layer.Layer<Bus, BusError> = Layer.effect(
    Bus,
    Effect.gen(function* () {
      const settings = yield* BusSettings.pipe(
        Effect.mapError((e) => busError("configure", "config", `the bus settings are not valid: ${e.message}`))
      )
      if (settings.timeoutMs <= 0)
        return yield* busError(
          "configure",
          "config",
          `MOOR_BUS_TIMEOUT_MS must be a positive number of milliseconds, not ${settings.timeoutMs}`
        )
      const targets = yield* parseOrFail(targetsOf(settings))
      return yield* makeFromTargets(targets, {
        timeout: settings.timeoutMs,
        webhookSecret: Option.getOrUndefined(settings.webhookSecret)
      })
    })
  )

  /** The default: the buses the environment names (`layerFromEnv`). */
  static readonly layer: Layer.Layer<Bus, BusError> = Bus.layerFromEnv

  /** An in-process bus only: for tests and single-process tools. */
  static readonly layerMemory: Layer.Layer<Bus> = Layer.effect(Bus, makeFromTargets([{ kind: "memory" }], {}))
}
