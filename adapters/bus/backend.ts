/**
 * One technology behind the bus (memory, NATS, a webhook), and how events are delivered to it.
 *
 * While a bus delivers, a publish waits for it, up to the timeout. The first failure opens an
 * outage: one warning, and from then on a publish never waits for that bus: each event is tried in
 * the background, one at a time, and dropped at once while a try is under way (a debug line). The
 * first delivery that works closes the outage and says how many events were lost. So a bus that is
 * down or hangs costs a run one timeout and one warning per outage, not one per event.
 */
import { Duration, Effect, Ref, type Scope, type Stream } from "effect"
import { BusError } from "./BusError.ts"
import type { MoorEvent } from "./events.ts"

/** An event ready to send: checked against the Schema, its topic, its JSON text. */
export interface Outgoing {
  readonly event: MoorEvent
  readonly topic: string
  readonly body: string
}

export interface Backend {
  /** As logged: `memory`, `nats nats://127.0.0.1:4222`, `webhook https://example.com/hook`. */
  readonly name: string
  /** Delivers one event; the bus bounds it with the publish timeout. */
  readonly send: (message: Outgoing) => Effect.Effect<void, BusError>
  /** Events whose topic matches `pattern`, from the moment the returned effect completes. */
  readonly subscribe?: (pattern: string) => Effect.Effect<Stream.Stream<MoorEvent>, BusError, Scope.Scope>
}

interface OutageState {
  readonly down: boolean
  readonly dropped: number
  /** A background try is under way. */
  readonly trying: boolean
}

/**
 * `deliver(message)` for one backend: never fails, waits at most `timeout`, and not at all during an
 * outage. Background tries live in the scope; at its end a bus still down says what it lost.
 */
export const makeDelivery = (
  backend: Backend,
  timeout: Duration.Input
): Effect.Effect<(message: Outgoing) => Effect.Effect<void>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const state = yield* Ref.make<OutageState>({ down: false, dropped: 0, trying: false })
    const name = backend.name
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Ref.get(state), ({ down, dropped }) =>
        down
          ? Effect.logWarning(`event bus ${name} was still down at shutdown; ${dropped} event(s) were dropped`)
          : Effect.void
      )
    )

    const delivered = Effect.flatMap(
      Ref.getAndUpdate(state, (s) => ({ ...s, down: false, dropped: 0 })),
      ({ down, dropped }) =>
        down ? Effect.logInfo(`event bus ${name} delivers again; ${dropped} event(s) were dropped`) : Effect.void
    )

    const dropped = (reason: string, topic: string) =>
      Effect.flatMap(
        Ref.modify(state, (s) => [s.down, { ...s, down: true, dropped: s.dropped + 1 }]),
        (wasDown) =>
          wasDown
            ? Effect.logDebug(`event bus ${name}: event dropped (${reason})`, { topic })
            : Effect.logWarning(
                `event bus ${name}: event dropped (${reason}); until it delivers again, events are tried ` +
                  "in the background and dropped while a try is under way (logged at debug level)",
                { topic }
              )
      )

    const attempt = (message: Outgoing) =>
      backend.send(message).pipe(
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () =>
            Effect.fail(
              new BusError({
                backend: name,
                op: "publish",
                reason: "timeout",
                message: `no answer within ${Duration.toMillis(timeout)} ms`
              })
            )
        }),
        Effect.matchEffect({
          onFailure: (e) => dropped(`${e.reason}: ${e.message}`, message.topic),
          onSuccess: () => delivered
        }),
        Effect.catchDefect((defect) => dropped(`bug: ${String(defect)}`, message.topic))
      )

    return (message: Outgoing) =>
      Effect.flatMap(Ref.get(state), ({ down }) => {
        if (!down) return attempt(message)
        return Effect.flatMap(
          Ref.modify(state, (s) => [!s.trying, { ...s, trying: true }]),
          (claimed): Effect.Effect<void> =>
            claimed
              ? attempt(message).pipe(
                  // Cut short by shutdown: the event is lost too.
                  Effect.onInterrupt(() => Ref.update(state, (s) => ({ ...s, dropped: s.dropped + 1 }))),
                  Effect.ensuring(Ref.update(state, (s) => ({ ...s, trying: false }))),
                  Effect.forkIn(scope, { startImmediately: true }),
                  Effect.asVoid
                )
              : dropped("a try is under way", message.topic)
        )
      })
  })
