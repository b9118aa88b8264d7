/**
 * The NATS bus. The connection is made in the background: building the layer never waits for
 * NATS nor fails because of it. Until the first dial ends (at most one publish timeout), a publish
 * waits for it; after that, while NATS is down, events are dropped at once (the client's own
 * reconnect buffer is never used, so nothing piles up), and the dial is retried with a backoff
 * capped at 2 s. Once connected, the client reconnects by itself. Each publish is confirmed with a
 * flush (one round trip), so a slow server shows as a timeout. The scope's end drains and closes.
 */
import { connect, type NatsConnection, type Status } from "@nats-io/transport-node"
import { Deferred, Duration, Effect, Ref, Schedule, Schema, type Scope, Queue, Stream } from "effect"
import type { Backend } from "./backend.ts"
import { BusError } from "./BusError.ts"
import { safeUrl } from "./config.ts"
import { MoorEventFromJson, type MoorEvent } from "./events.ts"

export interface NatsOptions {
  /** Bounds the first dial (and what a publish waits for it) and each dial after. */
  readonly connectTimeout: Duration.Input
  /** Between the client's own reconnect attempts once it has been connected. */
  readonly reconnectWait?: Duration.Input | undefined
  /** Messages a subscriber may fall behind before the oldest are dropped. */
  readonly subscriberBuffer?: number | undefined
}

interface Link {
  readonly conn: NatsConnection | undefined
  readonly up: boolean
}

const problemOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/**
 * The client takes credentials as options, not in URLs: `nats://user:pass@host` gives user and
 * password, `nats://token@host` a token (the first URL that has any wins). URLs go without them.
 */
export const natsConnectOptions = (
  servers: ReadonlyArray<string>
): { servers: Array<string>; user?: string; pass?: string; token?: string } => {
  let auth: { user?: string; pass?: string; token?: string } = {}
  const plain = servers.map((server) => {
    const url = new URL(server)
    if (url.username !== "" && Object.keys(auth).length === 0) {
      const user = decodeURIComponent(url.username)
      auth = url.password === "" ? { token: user } : { user, pass: decodeURIComponent(url.password) }
    }
    return `${url.protocol}//${url.host}`
  })
  return { servers: plain, ...auth }
}

export const natsBackend = (
  servers: ReadonlyArray<string>,
  options: NatsOptions
): Effect.Effect<Backend, never, Scope.Scope> =>
  Effect.gen(function* () {
    const name = `nats ${servers.map(safeUrl).join(",")}`
    const connectTimeout = Duration.fromInputUnsafe(options.connectTimeout)
    const link = yield* Ref.make<Link>({ conn: undefined, up: false })
    /** Done when the first dial has ended, well or not, or its time is up. */
    const settled = yield* Deferred.make<void>()
    const failures = yield* Ref.make(0)
    const error = (op: string, reason: BusError["reason"], message: string) =>
      new BusError({ backend: name, op, reason, message })

    const dial = Effect.callback<NatsConnection, BusError>((resume) => {
      const pending = connect({
        ...natsConnectOptions(servers),
        name: "moor",
        timeout: Duration.toMillis(connectTimeout),
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: Duration.toMillis(Duration.fromInputUnsafe(options.reconnectWait ?? "1 second"))
      })
      pending.then(
        (conn) => resume(Effect.succeed(conn)),
        (cause: unknown) => resume(Effect.fail(error("connect", "unavailable", problemOf(cause))))
      )
      // Interrupted while dialing: a connection that still comes is closed at once.
      return Effect.sync(() => {
        pending.then(
          (conn) => conn.close(),
          () => undefined
        )
      })
    })

    const dialUntilConnected = dial.pipe(
      Effect.tapError((e) =>
        Effect.flatMap(
          Ref.getAndUpdate(failures, (n) => n + 1),
          (n) =>
            (n === 0
              ? Effect.logWarning(
                  `event bus ${name}: cannot connect (${e.message}); events are dropped until it can, ` +
                    "retrying in the background"
                )
              : Effect.logDebug(`event bus ${name}: still cannot connect (${e.message})`)
            ).pipe(Effect.andThen(Deferred.succeed(settled, undefined)))
        )
      ),
      Effect.retry(Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("2 seconds")]))
    )

    const onStatus = (status: Status): Effect.Effect<void> => {
      switch (status.type) {
        case "disconnect":
          return Effect.andThen(
            Ref.update(link, (l) => ({ ...l, up: false })),
            Effect.logWarning(`event bus ${name}: disconnected; events are dropped until it reconnects`)
          )
        case "reconnect":
          return Effect.andThen(
            Ref.update(link, (l) => ({ ...l, up: true })),
            Effect.logInfo(`event bus ${name}: reconnected`)
          )
        default:
          return Effect.void
      }
    }

    const session = (conn: NatsConnection) =>
      Effect.gen(function* () {
        yield* Ref.set(link, { conn, up: true })
        yield* Ref.set(failures, 0)
        yield* Deferred.succeed(settled, undefined)
        yield* Effect.logInfo(`event bus ${name}: connected`)
        const statuses = Stream.fromAsyncIterable(conn.status(), problemOf).pipe(
          Stream.runForEach(onStatus),
          Effect.ignore,
          Effect.andThen(Effect.never)
        )
        const closed = yield* Effect.raceFirst(
          statuses,
          Effect.promise(() => conn.closed())
        )
        yield* Ref.set(link, { conn: undefined, up: false })
        yield* Effect.logWarning(
          `event bus ${name}: connection closed${closed instanceof Error ? ` (${closed.message})` : ""}; dialing again`
        )
      })

    const close = Effect.gen(function* () {
      const { conn } = yield* Ref.getAndSet(link, { conn: undefined, up: false })
      if (conn === undefined) return
      yield* Effect.promise(() => conn.drain().catch(() => conn.close())).pipe(
        Effect.timeoutOrElse({ duration: "2 seconds", orElse: () => Effect.promise(() => conn.close()) })
      )
    })

    // Finalizers run in reverse: the dialing fiber is interrupted first, then the connection closed.
    yield* Effect.addFinalizer(() => close)
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(dialUntilConnected, session)))
    yield* Effect.forkScoped(Effect.andThen(Effect.sleep(connectTimeout), Deferred.succeed(settled, undefined)))

    /** The link once the first dial has ended: publishing right after start does not lose events. */
    const current = Effect.andThen(Deferred.await(settled), Ref.get(link))

    const decode = (text: string): Effect.Effect<MoorEvent | undefined> =>
      Schema.decodeUnknownEffect(MoorEventFromJson)(text).pipe(
        Effect.catch((e) =>
          Effect.as(
            Effect.logWarning(`event bus ${name}: skipped a message that is not a moor event: ${e.message}`),
            undefined
          )
        )
      )

    return {
      name,
      send: (message) =>
        Effect.gen(function* () {
          const { conn, up } = yield* current
          if (conn === undefined || !up)
            return yield* error("publish", "unavailable", conn === undefined ? "not connected" : "reconnecting")
          yield* Effect.try({
            try: () => conn.publish(message.topic, message.body),
            catch: (cause) => error("publish", "rejected", problemOf(cause))
          })
          yield* Effect.tryPromise({
            try: () => conn.flush(),
            catch: (cause) => error("publish", "unavailable", problemOf(cause))
          })
        }),
      subscribe: (pattern) =>
        Effect.gen(function* () {
          const { conn } = yield* current
          if (conn === undefined) return yield* error("subscribe", "unavailable", "not connected")
          const queue = yield* Queue.sliding<string>(options.subscriberBuffer ?? 1024)
          yield* Effect.acquireRelease(
            Effect.try({
              try: () =>
                conn.subscribe(pattern, {
                  callback: (err, msg) => {
                    if (err === null) Queue.offerUnsafe(queue, msg.string())
                  }
                }),
              catch: (cause) => error("subscribe", "rejected", problemOf(cause))
            }),
            (subscription) => Effect.sync(() => subscription.unsubscribe())
          )
          // The server knows the subscription once the flush returns: nothing published after is missed.
          yield* Effect.tryPromise({
            try: () => conn.flush(),
            catch: (cause) => error("subscribe", "unavailable", problemOf(cause))
          }).pipe(
            Effect.timeoutOrElse({
              duration: connectTimeout,
              orElse: () => Effect.fail(error("subscribe", "timeout", "the server did not confirm the subscription"))
            })
          )
          return Stream.fromQueue(queue).pipe(
            Stream.mapEffect(decode),
            Stream.filter((event): event is MoorEvent => event !== undefined)
          )
        })
    } satisfies Backend
  })
