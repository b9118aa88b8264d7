/**
 * `Metrics`: what `/metrics` shows, in the Prometheus text format (version 0.0.4). Counters since
 * the process started; the last-pass gauges come from the `Heartbeat`, so passes of a watch loop in
 * the same process count too.
 */
import { Context, Effect, Layer, Ref } from "effect"
import { type Plan, passiveKinds } from "../../core/model/plan.ts"
import type { ActionResult } from "../execute/result.ts"
import type { LastPass } from "./heartbeat.ts"

/** `error`: the pass could not run at all (the spec could not be loaded, an unexpected failure). */
export type PassMetricOutcome = "succeeded" | "partial" | "failed" | "error"
const passOutcomes: ReadonlyArray<PassMetricOutcome> = ["succeeded", "partial", "failed", "error"]

/** Upper bounds of the pass duration histogram, in seconds. */
export const durationBuckets: ReadonlyArray<number> = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

export interface PassMetric {
  readonly outcome: PassMetricOutcome
  readonly durationMs: number
  readonly results: ReadonlyArray<ActionResult>
  /** Changing (not passive) actions in the pass's first plan: the drift it found. */
  readonly driftActions: number
}

interface State {
  readonly passes: ReadonlyMap<PassMetricOutcome, number>
  readonly actions: ReadonlyMap<string, number>
  readonly bucketCounts: ReadonlyArray<number>
  readonly durationSum: number
  readonly durationCount: number
  readonly driftTotal: number
  readonly lastDrift: number | undefined
  readonly requests: ReadonlyMap<string, number>
}

export interface ScrapeInput {
  readonly now: number
  readonly last: LastPass | undefined
  readonly lastSuccess: LastPass | undefined
  readonly queue: { readonly running: number; readonly queued: number }
}

export interface MetricsShape {
  readonly recordPass: (pass: PassMetric) => Effect.Effect<void>
  readonly recordRequest: (route: string, status: number) => Effect.Effect<void>
  readonly render: (input: ScrapeInput) => Effect.Effect<string>
}

const SEP = "\u0000"
const bump = <K>(map: ReadonlyMap<K, number>, key: K, by = 1): ReadonlyMap<K, number> =>
  new Map(map).set(key, (map.get(key) ?? 0) + by)

/** A label value as Prometheus wants it: backslash, double quote and newline escaped. */
export const escapeLabel = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
const labels = (pairs: Readonly<Record<string, string>>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`
const num = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, ""))

const header = (name: string, type: "counter" | "gauge" | "histogram", help: string) => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} ${type}`
]

export const changingActions = (plan: Plan): number => plan.actions.filter((a) => !passiveKinds.has(a._tag)).length

const renderState = (s: State, input: ScrapeInput): string => {
  const lines: Array<string> = []
  lines.push(...header("moor_passes_total", "counter", "Reconcile passes this server ran, by outcome."))
  for (const o of passOutcomes) lines.push(`moor_passes_total${labels({ outcome: o })} ${s.passes.get(o) ?? 0}`)

  lines.push(...header("moor_actions_total", "counter", "Plan actions carried out, by kind and outcome."))
  for (const [key, n] of [...s.actions].sort(([a], [b]) => a.localeCompare(b))) {
    const [kind = "", outcome = ""] = key.split(SEP)
    lines.push(`moor_actions_total${labels({ kind, outcome })} ${n}`)
  }

  lines.push(...header("moor_pass_duration_seconds", "histogram", "How long reconcile passes took."))
  durationBuckets.forEach((le, i) =>
    lines.push(`moor_pass_duration_seconds_bucket${labels({ le: num(le) })} ${s.bucketCounts[i] ?? 0}`)
  )
  lines.push(`moor_pass_duration_seconds_bucket${labels({ le: "+Inf" })} ${s.durationCount}`)
  lines.push(`moor_pass_duration_seconds_sum ${num(s.durationSum)}`)
  lines.push(`moor_pass_duration_seconds_count ${s.durationCount}`)

  lines.push(
    ...header(
      "moor_drift_actions_total",
      "counter",
      "Changing actions planned at the start of passes (drift found: what was not as the spec says)."
    )
  )
  lines.push(`moor_drift_actions_total ${s.driftTotal}`)
  if (s.lastDrift !== undefined) {
    lines.push(...header("moor_last_pass_drift_actions", "gauge", "Changing actions the last pass set out to do."))
    lines.push(`moor_last_pass_drift_actions ${s.lastDrift}`)
  }

  if (input.last !== undefined) {
    lines.push(...header("moor_last_pass_timestamp_seconds", "gauge", "When the last pass finished (Unix time)."))
    lines.push(`moor_last_pass_timestamp_seconds ${num(input.last.finishedAt / 1000)}`)
    lines.push(...header("moor_seconds_since_last_pass", "gauge", "Seconds since the last pass finished."))
    lines.push(`moor_seconds_since_last_pass ${num(Math.max(0, (input.now - input.last.finishedAt) / 1000))}`)
  }
  if (input.lastSuccess !== undefined) {
    lines.push(
      ...header("moor_last_success_timestamp_seconds", "gauge", "When the last successful pass finished (Unix time).")
    )
    lines.push(`moor_last_success_timestamp_seconds ${num(input.lastSuccess.finishedAt / 1000)}`)
  }

  lines.push(...header("moor_pass_queue", "gauge", "Passes running and waiting in this server's queue."))
  lines.push(`moor_pass_queue${labels({ state: "running" })} ${input.queue.running}`)
  lines.push(`moor_pass_queue${labels({ state: "queued" })} ${input.queue.queued}`)

  lines.push(...header("moor_http_requests_total", "counter", "HTTP requests answered, by route and status."))
  for (const [key, n] of [...s.requests].sort(([a], [b]) => a.localeCompare(b))) {
    const [route = "", status = ""] = key.split(SEP)
    lines.push(`moor_http_requests_total${labels({ route, status })} ${n}`)
  }
  return `${lines.join("\n")}\n`
}

export class Metrics extends Context.Service<Metrics, MetricsShape>()("moor/http/Metrics") {
  static readonly layer: Layer.Layer<Metrics> = Layer.effect(
    Metrics,
    Effect.gen(function* () {
      const state = yield* Ref.make<State>({
        passes: new Map(),
        actions: new Map(),
        bucketCounts: durationBuckets.map(() => 0),
        durationSum: 0,
        durationCount: 0,
        driftTotal: 0,
        lastDrift: undefined,
        requests: new Map()
      })
      return Metrics.of({
        recordPass: (pass) =>
          Ref.update(state, (s) => {
            const seconds = pass.durationMs / 1000
            let actions = s.actions
            for (const r of pass.results) actions = bump(actions, `${r.action._tag}${SEP}${r.outcome}`)
            return {
              ...s,
              passes: bump(s.passes, pass.outcome),
              actions,
              bucketCounts: durationBuckets.map((le, i) => (s.bucketCounts[i] ?? 0) + (seconds <= le ? 1 : 0)),
              durationSum: s.durationSum + seconds,
              durationCount: s.durationCount + 1,
              driftTotal: s.driftTotal + pass.driftActions,
              lastDrift: pass.driftActions
            }
          }),
        recordRequest: (route, status) =>
          Ref.update(state, (s) => ({ ...s, requests: bump(s.requests, `${route}${SEP}${status}`) })),
        render: (input) => Effect.map(Ref.get(state), (s) => renderState(s, input))
      })
    })
  )
}
