/**
 * `Heartbeat`: the last reconcile pass this process finished, whoever ran it (the HTTP runner, the
 * watch loop). One `Heartbeat.layer` shared by both runners in one process lets `/healthz` show the
 * last pass whatever triggered it, and the watch loop publish it on the bus.
 *
 *   const beat = yield* Heartbeat
 *   yield* beat.record(beatOf(result, { trigger: "watch", startedAt, finishedAt }))
 *   const last = yield* beat.last          // undefined until a pass has finished
 */
import { Context, Effect, Layer, Ref } from "effect"
import type { RunTrigger } from "../../adapters/repo/records.ts"
import type { PassResult } from "../pass/pass.ts"

/** How a pass ended, over all its hosts: `partial` when some hosts (or some apps) failed. */
export type PassOutcome = "succeeded" | "partial" | "failed"

export interface LastPass {
  readonly passId: string
  readonly trigger: RunTrigger
  readonly outcome: PassOutcome
  /** Epoch ms. */
  readonly startedAt: number
  readonly finishedAt: number
  /** One run per host: `<passId>-<host>`. */
  readonly runs: ReadonlyArray<{ readonly id: string; readonly host: string; readonly status: string }>
  /** Why it failed, when it did (first lines of the runs' errors). */
  readonly error?: string | undefined
}

export interface HeartbeatShape {
  readonly record: (pass: LastPass) => Effect.Effect<void>
  /** The last pass that finished, or undefined. */
  readonly last: Effect.Effect<LastPass | undefined>
  /** The last pass that succeeded, or undefined. */
  readonly lastSuccess: Effect.Effect<LastPass | undefined>
}

/** A pass with no run (no host answered, or every host was busy) counts as failed. */
export const outcomeOf = (result: Pick<PassResult, "runs">): PassOutcome => {
  const ok = result.runs.filter((r) => r.status === "succeeded").length
  if (result.runs.length > 0 && ok === result.runs.length) return "succeeded"
  const anyDone = result.runs.some((r) => r.status === "succeeded" || r.status === "partial")
  return anyDone ? "partial" : "failed"
}

export const beatOf = (
  result: Pick<PassResult, "id" | "runs">,
  meta: { readonly trigger: RunTrigger; readonly startedAt: number; readonly finishedAt: number }
): LastPass => {
  const errors = result.runs.flatMap((r) => (r.error === undefined ? [] : [`${r.host}: ${r.error.split("\n")[0]}`]))
  return {
    passId: result.id,
    trigger: meta.trigger,
    outcome: outcomeOf(result),
    startedAt: meta.startedAt,
    finishedAt: meta.finishedAt,
    runs: result.runs.map((r) => ({ id: r.id, host: r.host, status: r.status })),
    ...(errors.length === 0 ? {} : { error: errors.join("\n") })
  }
}

export class Heartbeat extends Context.Service<Heartbeat, HeartbeatShape>()("moor/Heartbeat") {
  /** A fresh heartbeat: build it once per process and share it between runners. */
  static readonly layer: Layer.Layer<Heartbeat> = Layer.effect(
    Heartbeat,
    Effect.gen(function* () {
      const state = yield* Ref.make<{ last?: LastPass; lastSuccess?: LastPass }>({})
      return Heartbeat.of({
        record: (pass) =>
          Ref.update(state, (s) => ({
            ...s,
            last: pass,
            ...(pass.outcome === "succeeded" ? { lastSuccess: pass } : {})
          })),
        last: Effect.map(Ref.get(state), (s) => s.last),
        lastSuccess: Effect.map(Ref.get(state), (s) => s.lastSuccess)
      })
    })
  )
}
