/** A reconcile pass's result, summed up for the watch loop: how it ended, its run, what to say. */
import { passiveKinds } from "../../core/model/plan.ts"
import type { PassResult } from "../pass/pass.ts"
import type { PassOutcome } from "./loop.ts"

/**
 * `unreachable` when a host could not be reconciled in this pass (it did not answer, or another
 * moor holds its lease): the loop retries sooner. Otherwise from the hosts' runs: all succeeded,
 * all failed, or partial.
 */
export const outcomeOf = (pass: PassResult): PassOutcome => {
  const unknown = pass.finalPlan.hosts.filter((h) => h.status === "unknown")
  const troubled = pass.runs.find((r) => r.status !== "succeeded")
  const runId = (troubled ?? pass.runs[0])?.id ?? pass.id
  const actions = pass.results.filter((r) => r.outcome === "done" && !passiveKinds.has(r.action._tag)).length
  const problems = pass.runs.flatMap((r) => (r.error === undefined ? [] : [`${r.host}: ${r.error}`]))
  const detail = problems.length === 0 ? undefined : problems.join("\n")
  if (unknown.length > 0) {
    const why = unknown.map((h) => `host ${h.host} is unknown (${h.reason ?? "no answer"}): nothing on it was changed`)
    return { status: "unreachable", runId, actions, detail: why.join("\n") }
  }
  const status = pass.runs.every((r) => r.status === "succeeded")
    ? "succeeded"
    : pass.runs.every((r) => r.status === "failed")
      ? "failed"
      : "partial"
  return { status, runId, actions, detail }
}
