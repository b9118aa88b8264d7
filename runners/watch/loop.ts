/**
 * The watch loop's scheduling, apart from what a pass does: a first pass at once, then one every
 * interval; a request (an engine event) brings the next pass forward after a short debounce;
 * passes never overlap and requests that arrive during a pass coalesce into one follow-up pass; a
 * pass that could not reach a host is retried sooner, with exponential backoff
 * capped at the interval. A pass is uninterruptible: interrupting the loop lets the pass in flight
 * (and its report) finish, then stops before the next one.
 */
import { Cause, Effect, Option, Queue } from "effect"

/** What woke the loop for a pass. */
export type Trigger = "start" | "interval" | "event" | "retry"

/**
 * How a pass ended. `unreachable`: a host did not answer (or another moor held its lease), so
 * nothing was changed there, or the state repository did not answer: retried sooner, with backoff. `skipped`: nothing was attempted (the
 * spec did not load).
 */
export type PassStatus = "succeeded" | "partial" | "failed" | "unreachable" | "skipped"

export interface PassOutcome {
  readonly status: PassStatus
  /** The run that tells most about this pass; absent when it was skipped. */
  readonly runId?: string | undefined
  /** Changes carried out (actions done, waits left out). */
  readonly actions?: number | undefined
  /** For people: what failed, or why the pass was skipped. */
  readonly detail?: string | undefined
}

export interface PassReport {
  readonly trigger: Trigger
  readonly outcome: PassOutcome
  /** Epoch ms, from the Clock. */
  readonly startedAt: number
  readonly finishedAt: number
  /** When the next pass is due unless a request comes first. */
  readonly nextInMs: number
}

export interface LoopOptions<R = never> {
  readonly intervalMs: number
  /** How long to wait after a request for more to arrive before the pass (default 250 ms). */
  readonly debounceMs?: number | undefined
  /** The first retry after an unreachable host (default 1 s), doubling, capped at the interval. */
  readonly retryBaseMs?: number | undefined
  readonly pass: (trigger: Trigger) => Effect.Effect<PassOutcome, never, R>
  /** Runs after each pass, in the same uninterruptible step (logs, heartbeat). */
  readonly afterPass?: ((report: PassReport) => Effect.Effect<void, never, R>) | undefined
}

export interface WatchLoop<R = never> {
  /** Asks for a pass soon (debounced, coalesced); never blocks. `reason` is logged at debug level. */
  readonly request: (reason: string) => Effect.Effect<void>
  /** Runs the loop until interrupted. */
  readonly run: Effect.Effect<never, never, R>
}

export const DEFAULT_DEBOUNCE_MS = 250
export const DEFAULT_RETRY_BASE_MS = 1000

/** The wait before the next pass after `streak` passes in a row that must be retried. */
export const retryDelay = (streak: number, baseMs: number, intervalMs: number): number =>
  streak <= 0 ? intervalMs : Math.min(intervalMs, baseMs * 2 ** Math.min(streak - 1, 30))

const now = Effect.clockWith((c) => c.currentTimeMillis)

export const makeWatchLoop = <R = never>(options: LoopOptions<R>): Effect.Effect<WatchLoop<R>> =>
  Effect.gen(function* () {
    // One slot: any number of requests while the loop is busy become one pending request.
    const requests = yield* Queue.sliding<string>(1)
    const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS
    const retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS

    const onePass = (trigger: Trigger, streak: number) =>
      Effect.gen(function* () {
        const startedAt = yield* now
        const outcome = yield* options.pass(trigger).pipe(
          Effect.catchCause((cause) =>
            Effect.as(Effect.logError(`the pass failed: ${Cause.pretty(cause)}`), {
              status: "failed" as const,
              detail: Cause.pretty(cause).split("\n")[0] ?? "failed"
            })
          )
        )
        const finishedAt = yield* now
        const nextStreak = outcome.status === "unreachable" ? streak + 1 : 0
        const nextInMs = retryDelay(nextStreak, retryBaseMs, options.intervalMs)
        if (options.afterPass !== undefined) {
          yield* options
            .afterPass({ trigger, outcome, startedAt, finishedAt, nextInMs })
            .pipe(Effect.catchCause((cause) => Effect.logWarning(`after the pass: ${Cause.pretty(cause)}`)))
        }
        return { nextStreak, dueAt: finishedAt + nextInMs }
      }).pipe(Effect.uninterruptible)

    const run = Effect.gen(function* () {
      let trigger: Trigger = "start"
      let streak = 0
      for (;;) {
        const done = yield* onePass(trigger, streak)
        streak = done.nextStreak
        const wait = Math.max(0, done.dueAt - (yield* now))
        const woken = yield* Queue.take(requests).pipe(Effect.timeoutOption(wait))
        if (Option.isNone(woken)) {
          trigger = streak > 0 ? "retry" : "interval"
          continue
        }
        yield* Effect.logDebug(`pass requested: ${woken.value}`)
        // A burst of events (kill, die, stop...) makes one pass.
        if (debounceMs > 0) yield* Effect.sleep(debounceMs)
        yield* Queue.clear(requests)
        trigger = "event"
      }
    })

    return {
      request: (reason: string) => Effect.asVoid(Queue.offer(requests, reason)),
      run
    } satisfies WatchLoop<R>
  })
