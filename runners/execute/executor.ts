/**
 * Runs a plan: every action once its dependencies are done, independent ones in parallel (engine
 * calls bounded by `concurrency`), each app isolated: an action whose dependency failed or was
 * skipped is skipped, nothing else is. Never fails: every action ends with an outcome. Errors and
 * hook output are redacted here, once, before anyone records, publishes or prints them: an engine
 * or a hook may echo an environment value (core/redact.ts).
 */
import { Deferred, Effect, Semaphore } from "effect"
import type { Docker } from "../../adapters/docker/Docker.ts"
import { type Action, type Plan, passiveKinds } from "../../core/model/plan.ts"
import { type Secret, secretsOfPlan, textRedactor } from "../../core/redact.ts"
import type { ActionResult, Outcome } from "./result.ts"
import { runAction } from "./run-action.ts"

export interface ExecuteOptions {
  readonly scope: string
  /** Engine calls in flight at once (default 8). */
  readonly concurrency?: number
  /** Retries of a transient engine error (default 4), with exponential backoff from `retryBaseMs` (200). */
  readonly retries?: number
  readonly retryBaseMs?: number
  readonly callTimeoutMs?: number
  readonly pullTimeoutMs?: number
  /** Before each action that changes something: why it must not start (fencing, see runners/pass/hold.ts). */
  readonly fence?: (host: string) => Effect.Effect<string | undefined>
  /**
   * Values no error or hook output may show, beside the plan's own (the desired state's environment:
   * a hook runs in a container the plan does not create, and can print its variables).
   */
  readonly secrets?: Iterable<Secret> | undefined
  /** Called as each action ends, in completion order. */
  readonly onResult?: (result: ActionResult) => Effect.Effect<void>
}

export const execute = Effect.fn("execute")(function* (plan: Plan, options: ExecuteOptions) {
  const semaphore = yield* Semaphore.make(options.concurrency ?? 8)
  const redact = textRedactor([...secretsOfPlan(plan), ...(options.secrets ?? [])])
  const runOptions = {
    scope: options.scope,
    redact,
    semaphore,
    retries: options.retries ?? 4,
    retryBaseMs: options.retryBaseMs ?? 200,
    callTimeoutMs: options.callTimeoutMs ?? 60_000,
    pullTimeoutMs: options.pullTimeoutMs ?? 15 * 60_000
  }
  const done = new Map<string, Deferred.Deferred<Outcome>>()
  for (const a of plan.actions) done.set(a.id, yield* Deferred.make<Outcome>())
  const clock = Effect.clockWith((c) => c.currentTimeMillis)

  const run = (action: Action): Effect.Effect<ActionResult, never, Docker> =>
    Effect.gen(function* () {
      let blocked: string | undefined
      for (const dep of action.after ?? []) {
        const d = done.get(dep)
        if (d !== undefined) yield* Deferred.await(d)
      }
      for (const dep of action.waitsFor) {
        const d = done.get(dep)
        const outcome = d === undefined ? "failed" : yield* Deferred.await(d)
        if (outcome !== "done") {
          blocked = `waits for ${dep}, which ${outcome === "failed" ? "failed" : "was skipped"}`
          break
        }
      }
      if (blocked === undefined && options.fence !== undefined && !passiveKinds.has(action._tag))
        blocked = yield* options.fence(action.host)
      const startedAt = yield* clock
      const raw: Omit<ActionResult, "action" | "startedAt" | "durationMs"> =
        blocked !== undefined
          ? { outcome: "skipped", error: blocked }
          : action._tag === "skip"
            ? { outcome: "skipped", error: action.reason }
            : yield* runAction(runOptions, action).pipe(
                Effect.map((output) => ({ outcome: "done" as const, ...(output === undefined ? {} : { output }) })),
                Effect.catchTag("ActionFailed", (e) =>
                  Effect.succeed({ outcome: "failed" as const, error: e.message })
                ),
                Effect.catchDefect((d) =>
                  Effect.succeed({ outcome: "failed" as const, error: `unexpected error: ${String(d)}` })
                ),
                Effect.withSpan("action", { attributes: { id: action.id, kind: action._tag } })
              )
      const r = {
        outcome: raw.outcome,
        ...(raw.error === undefined ? {} : { error: redact(raw.error) }),
        ...(raw.output === undefined ? {} : { output: redact(raw.output) })
      }
      const result: ActionResult = { action, ...r, startedAt, durationMs: (yield* clock) - startedAt }
      yield* Deferred.succeed(done.get(action.id)!, r.outcome)
      if (options.onResult !== undefined) yield* options.onResult(result)
      return result
    })

  return yield* Effect.forEach(plan.actions, run, { concurrency: "unbounded" })
})
