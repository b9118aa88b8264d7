/**
 * What the Action does, on an `ActionIO` (the runner protocol in main.ts, a recorder in tests):
 * load the spec (problems become annotations on their file and line), run one reconcile pass
 * (plan: dry run; apply: converge), set the outputs (`changed`, `plan`, `run-id`, `summary`), write the job
 * summary, and fail the step when an app failed, the spec has problems, a host is unknown, or (plan
 * with fail-on-drift) the hosts differ from the spec. Never fails as an effect: every failure is
 * reported through `io.setFailed`.
 */
import { Cause, Effect, Layer, Option } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { type Docker } from "../../adapters/docker/Docker.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import type { SpecLoader, SpecProblem } from "../../adapters/spec/SpecLoader.ts"
import { describe, hasChanges, summaryLine } from "../../core/describe.ts"
import { passiveKinds } from "../../core/model/plan.ts"
import { planForOutput, secretsOfDesired } from "../../core/redact.ts"
import { type Loaded, loadSpec, policyFrom, servicesFor } from "../cli/context.ts"
import { resultLine } from "../cli/output.ts"
import type { PassResult } from "../pass/pass.ts"
import { reconcilePass } from "../pass/pass.ts"
import { newHolderId, newPassId } from "../pass/ids.ts"
import { type Annotation, annotationOf } from "./annotations.ts"
import type { ActionInputs } from "./inputs.ts"
import { summaryMarkdown } from "./summary.ts"

/** The runner protocol, as the Action uses it. */
export interface ActionIO {
  readonly info: (text: string) => void
  readonly warning: (message: string, properties?: Annotation["properties"]) => void
  readonly error: (message: string, properties?: Annotation["properties"]) => void
  readonly setOutput: (name: string, value: string) => void
  readonly summary: (markdown: string) => Effect.Effect<void>
  readonly setFailed: (message: string) => void
}

export interface ActionOptions {
  /** GITHUB_WORKSPACE: annotation paths are made relative to it. */
  readonly workspace?: string | undefined
  /** The services for a loaded spec (default: the live engines, MOOR_REPO/`repo`, MOOR_BUS/`bus`). */
  readonly services?: ((loaded: Loaded, inputs: ActionInputs) => Layer.Layer<Docker | Repo | Bus, unknown>) | undefined
}

/** The live services: like the CLI's, with the `bus` input in place of MOOR_BUS when given. */
export const actionServices = (loaded: Loaded, inputs: ActionInputs): Layer.Layer<Docker | Repo | Bus, unknown> =>
  inputs.bus === undefined
    ? servicesFor(loaded)
    : Layer.mergeAll(DockerLive.layer(loaded.engines), Repo.layerFromUrl(loaded.repoUrl), Bus.layerFromUrl(inputs.bus))

/** A failure's message for people: the tagged errors of the spec and the adapters carry their own. */
const messageOf = (e: unknown): string => {
  if (typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "")
    return "_tag" in e ? e.message : `internal error: ${e.message}`
  return `internal error: ${String(e)}`
}

const problemsOf = (e: unknown): ReadonlyArray<SpecProblem> =>
  typeof e === "object" && e !== null && "_tag" in e && e._tag === "SpecError" && "problems" in e
    ? (e.problems as ReadonlyArray<SpecProblem>)
    : []

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

/** Actions done that changed an engine (waits and skips are not changes). */
export const changedBy = (pass: PassResult): boolean =>
  pass.results.some((r) => r.outcome === "done" && !passiveKinds.has(r.action._tag))

/** Why the step fails, or undefined when it succeeds. */
export const failureOf = (
  inputs: ActionInputs,
  pass: PassResult,
  problems: number
): { readonly message: string } | undefined => {
  const reasons: Array<string> = []
  if (problems > 0) reasons.push(`the spec has ${plural(problems, "problem")} (see the annotations)`)
  for (const h of pass.finalPlan.hosts)
    if (h.status === "unknown") reasons.push(`host ${h.host} is unknown: ${h.reason ?? "no answer"}`)
  if (inputs.mode === "apply") {
    for (const r of pass.runs)
      if (r.status !== "succeeded" && !reasons.some((x) => x.startsWith(`host ${r.host} is unknown`)))
        reasons.push(`host ${r.host}: ${r.status}${r.error === undefined ? "" : `: ${r.error}`}`)
  } else if (inputs.failOnDrift && hasChanges(pass.finalPlan)) {
    const n = pass.finalPlan.actions.filter((a) => !passiveKinds.has(a._tag)).length
    reasons.push(
      `drift: the hosts differ from the spec (${plural(n, "change")} planned); apply the spec, or set fail-on-drift: false`
    )
  }
  return reasons.length === 0 ? undefined : { message: reasons.join("\n") }
}

const headlineOf = (inputs: ActionInputs, pass: PassResult, tookMs: number): string => {
  if (inputs.mode === "plan") return summaryLine(pass.finalPlan)
  const count = (o: string) => pass.results.filter((r) => r.outcome === o).length
  const failed = count("failed")
  const what = failed > 0 ? "Apply finished with failures" : "Apply complete"
  return `${what}: ${count("done")} done, ${failed} failed, ${count("skipped")} skipped in ${(tookMs / 1000).toFixed(1)} s (run ${pass.id})`
}

export const runAction = (
  inputs: ActionInputs,
  io: ActionIO,
  options: ActionOptions = {}
): Effect.Effect<void, never, SpecLoader> =>
  Effect.gen(function* () {
    const annotate = (kind: "error" | "warning", title: string) => (p: SpecProblem) => {
      const a = annotationOf(p, options.workspace, title)
      io[kind](a.message, a.properties)
    }
    const loaded = yield* loadSpec(inputs.spec, {
      scope: Option.fromUndefinedOr(inputs.scope),
      dockerHost: Option.fromUndefinedOr(inputs.dockerHost),
      repo: Option.fromUndefinedOr(inputs.repo),
      json: false,
      quiet: false
    }).pipe(Effect.tapError((e) => Effect.sync(() => problemsOf(e).forEach(annotate("error", "moor: spec error")))))
    loaded.spec.problems.forEach(annotate("error", "moor: spec error"))
    loaded.spec.warnings.forEach(annotate("warning", "moor: spec warning"))

    const known = new Set(loaded.spec.files.map((f) => f.name))
    const unknown = (inputs.apps ?? []).filter((a) => !known.has(a))
    if (unknown.length > 0)
      return io.setFailed(
        `input "apps": no app ${unknown.map((a) => `"${a}"`).join(", ")} in the spec (its apps: ${[...known].join(", ")})`
      )

    const services = (options.services ?? actionServices)(loaded, inputs)
    const t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const pass = yield* reconcilePass({
      id: yield* newPassId,
      trigger: "action",
      desired: loaded.desired,
      policy: policyFrom({ prune: inputs.prune, pull: inputs.pull }),
      hosts: loaded.hosts,
      apps: inputs.apps,
      dryRun: inputs.mode === "plan",
      maxRounds: 5,
      settleMs: 60_000,
      holder: yield* newHolderId,
      lease: inputs.mode === "plan" ? { ttlMs: 60_000, waitMs: 0 } : { ttlMs: 120_000, waitMs: 30_000 },
      onPlan: (plan, round) =>
        Effect.sync(() =>
          io.info(round === 1 ? describe(plan) : `round ${round}: ${plural(plan.actions.length, "action")}`)
        ),
      execute: {
        secrets: secretsOfDesired(loaded.desired),
        onResult: (r) => Effect.sync(() => io.info(resultLine(r)))
      }
    }).pipe(Effect.provide(services))
    const took = (yield* Effect.clockWith((c) => c.currentTimeMillis)) - t0

    if (inputs.mode === "plan" || pass.results.length === 0) io.info(describe(pass.finalPlan))
    const changed = inputs.mode === "plan" ? hasChanges(pass.finalPlan) : changedBy(pass)
    io.setOutput("changed", String(changed))
    io.setOutput("plan", JSON.stringify(planForOutput(pass.firstPlan)))
    io.setOutput("run-id", inputs.mode === "apply" ? pass.id : "")
    const markdown = summaryMarkdown({
      mode: inputs.mode,
      scope: loaded.desired.scope,
      plan: pass.firstPlan,
      finalPlan: pass.finalPlan,
      results: pass.results,
      headline: headlineOf(inputs, pass, took)
    })
    io.setOutput("summary", markdown)
    yield* io.summary(markdown)
    const failure = failureOf(inputs, pass, loaded.spec.problems.length)
    if (failure !== undefined) io.setFailed(failure.message)
  }).pipe(
    Effect.catchCause((cause) =>
      Effect.sync(() => {
        if (Cause.hasInterruptsOnly(cause)) {
          io.setFailed("moor was interrupted (the job was cancelled)")
          return
        }
        const e = Cause.squash(cause)
        io.setFailed(messageOf(e))
      })
    )
  )
