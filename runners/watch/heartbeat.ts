/**
 * The watch loop's heartbeat on the bus: a `heartbeat` event (`moor.<scope>.heartbeat`) after each
 * pass and at each tick, carrying the last pass that finished (its run, outcome and end). The
 * process-wide `Heartbeat` (runners/http/heartbeat.ts, read by `/healthz`) is fed by the pass itself
 * (./watch.ts), when the context has one.
 */
import { Clock, Effect, Ref } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import type { LastPass, RunOutcome } from "../../adapters/bus/events.ts"
import type { PassReport } from "./loop.ts"

/** The run outcome a pass is reported with; undefined for a pass that did not run. */
export const runOutcomeOf = (report: PassReport): RunOutcome | undefined => {
  switch (report.outcome.status) {
    case "skipped":
      return undefined
    case "succeeded":
    case "partial":
      return report.outcome.status
    case "failed":
    case "unreachable":
      return "failed"
  }
}

export const lastPassOf = (report: PassReport): LastPass | undefined => {
  const outcome = runOutcomeOf(report)
  return outcome === undefined
    ? undefined
    : { runId: report.outcome.runId ?? "", outcome, finishedAt: new Date(report.finishedAt).toISOString() }
}

/** Remembers the last pass and publishes beats for the scope `scope()` names at the time. */
export const makeBeater = (scope: () => string) =>
  Effect.gen(function* () {
    const bus = yield* Bus
    const last = yield* Ref.make<LastPass | null>(null)
    const beat = Effect.gen(function* () {
      const at = new Date(yield* Clock.currentTimeMillis).toISOString()
      yield* bus.publish({ type: "heartbeat", scope: scope(), at, lastPass: yield* Ref.get(last) })
    })
    return {
      /** After a pass: remember it (unless it was skipped), then beat. */
      afterPass: (report: PassReport) =>
        Effect.gen(function* () {
          const lastPass = lastPassOf(report)
          if (lastPass !== undefined) yield* Ref.set(last, lastPass)
          yield* beat
        }),
      beat
    }
  })
