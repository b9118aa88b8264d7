/**
 * What one queued pass does: update the spec checkout (a push), read the spec, pull the images a
 * registry said were published (on the hosts whose services run them), then one reconcile pass
 * (trigger `webhook`) over the selected apps; the planner recreates services whose image changed
 * behind the same tag. Metrics and the heartbeat are updated; nothing here fails: what went wrong
 * is in the report's notes and outcome.
 */
import { Cause, Effect } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { formatDuration } from "../../core/plan/format.ts"
import { secretsOfDesired } from "../../core/redact.ts"
import { type HostRun, reconcilePass } from "../pass/pass.ts"
import { Git } from "./git.ts"
import { beatOf, Heartbeat } from "./heartbeat.ts"
import { changingActions, Metrics, type PassMetricOutcome } from "./metrics.ts"
import { Settings } from "./settings.ts"
import { appNamesOf, SpecSource, usesOfImage } from "./spec-source.ts"

/** What a queued pass was asked to do: the union of the requests merged into it. */
export interface JobSpec {
  readonly id: string
  /** Every app (a request without a selection, a push). */
  readonly all: boolean
  readonly apps: ReadonlySet<string>
  /** Pull these, and reconcile the apps whose services run them. */
  readonly images: ReadonlySet<string>
  /** Update the spec checkout first (a push to the configured branch). */
  readonly syncCheckout: boolean
  readonly reasons: ReadonlyArray<string>
}

/** `skipped`: nothing was left to reconcile (the selected apps or images are no longer in the spec). */
export type JobOutcome = PassMetricOutcome | "skipped" | "cancelled"

export interface JobReport {
  readonly outcome: JobOutcome
  readonly startedAt: number
  readonly finishedAt: number
  /** The apps reconciled; undefined: all. */
  readonly apps: ReadonlyArray<string> | undefined
  readonly runs: ReadonlyArray<HostRun>
  /** What happened beside the pass: checkout updates, pulls, apps gone from the spec, errors. */
  readonly notes: ReadonlyArray<string>
}

const now = Effect.clockWith((c) => c.currentTimeMillis)
const firstLine = (text: string) => text.split("\n")[0] ?? text

export const runJob = Effect.fn("http.runJob")(function* (job: JobSpec, holder: string) {
  const settings = yield* Settings
  const startedAt = yield* now
  const notes: Array<string> = []
  const note = (level: "info" | "warn", text: string) =>
    Effect.sync(() => notes.push(text)).pipe(
      Effect.andThen(level === "info" ? Effect.logInfo(text) : Effect.logWarning(text))
    )

  const body = Effect.gen(function* () {
    const github = settings.github
    if (job.syncCheckout && github !== undefined) {
      const git = yield* Git
      const synced = yield* Effect.result(git.sync(github.checkout, github.branch))
      if (synced._tag === "Success") {
        const { before, after } = synced.success
        yield* note(
          "info",
          before === after
            ? `checkout ${github.checkout} already at ${after.slice(0, 12)}`
            : `checkout ${github.checkout} updated ${before.slice(0, 12)} -> ${after.slice(0, 12)}`
        )
      } else yield* note("warn", `the checkout was not updated: ${synced.failure.message}`)
    }

    const loaded = yield* Effect.result((yield* SpecSource).load)
    if (loaded._tag === "Failure") {
      yield* note("warn", `the spec could not be loaded: ${loaded.failure.message}`)
      return { outcome: "error" as const, apps: undefined, runs: [], driftActions: 0, results: [] }
    }
    const spec = loaded.success
    const docker = yield* Docker
    for (const host of spec.hosts)
      if (!docker.hosts.includes(host))
        yield* note(
          "warn",
          `host ${host} is in the spec but moor serve was started without it (engines are read at startup): restart moor serve`
        )

    const apps = new Set(job.apps)
    for (const image of job.images) {
      const uses = usesOfImage(spec, image)
      if (uses.length === 0) yield* note("warn", `no service runs ${image} (any more): nothing to pull for it`)
      for (const host of [...new Set(uses.map((u) => u.host))]) {
        if (!docker.hosts.includes(host)) continue
        const pulled = yield* Effect.result(docker.pull(host, image))
        if (pulled._tag === "Success") yield* note("info", `pulled ${image} on ${host}`)
        else
          yield* note(
            "warn",
            `pulling ${image} on ${host} failed (the image on the host is used): ${firstLine(pulled.failure.message)}`
          )
      }
      for (const u of uses) apps.add(u.app)
    }
    const known = new Set(appNamesOf(spec))
    const gone = [...apps].filter((a) => !known.has(a))
    if (gone.length > 0) yield* note("warn", `not in the spec (any more): ${gone.join(", ")}`)
    const selected = job.all ? undefined : [...apps].filter((a) => known.has(a)).sort()
    if (selected !== undefined && selected.length === 0) {
      yield* note("info", "nothing to reconcile")
      return { outcome: "skipped" as const, apps: selected, runs: [], driftActions: 0, results: [] }
    }

    const result = yield* reconcilePass({
      id: job.id,
      trigger: "webhook",
      desired: spec.desired,
      policy: makePolicy(settings.policy),
      hosts: spec.hosts,
      apps: selected,
      holder,
      lease: { ttlMs: settings.pass.leaseTtlMs, waitMs: settings.pass.leaseWaitMs },
      maxRounds: settings.pass.maxRounds,
      settleMs: settings.pass.settleMs,
      execute: { secrets: secretsOfDesired(spec.desired) }
    })
    const beat = beatOf(result, { trigger: "webhook", startedAt, finishedAt: yield* now })
    yield* (yield* Heartbeat).record(beat)
    return {
      outcome: beat.outcome,
      apps: selected,
      runs: result.runs,
      driftActions: changingActions(result.firstPlan),
      results: result.results
    }
  })

  const done = yield* body.pipe(
    Effect.catchCause((cause) =>
      Effect.gen(function* () {
        if (Cause.hasInterruptsOnly(cause)) return yield* Effect.interrupt
        yield* note("warn", `the pass failed unexpectedly: ${firstLine(Cause.pretty(cause))}`)
        return { outcome: "error" as const, apps: undefined, runs: [], driftActions: 0, results: [] }
      })
    )
  )
  const finishedAt = yield* now
  if (done.outcome === "error")
    yield* (yield* Heartbeat).record({
      passId: job.id,
      trigger: "webhook",
      outcome: "failed",
      startedAt,
      finishedAt,
      runs: [],
      error: notes[notes.length - 1]
    })
  if (done.outcome !== "skipped") {
    yield* (yield* Metrics).recordPass({
      outcome: done.outcome,
      durationMs: finishedAt - startedAt,
      results: done.results,
      driftActions: done.driftActions
    })
  }
  const counts = (o: string) => done.results.filter((r) => r.outcome === o).length
  yield* Effect.logInfo(
    `pass ${job.id} ${done.outcome} in ${formatDuration(finishedAt - startedAt)}: ${counts("done")} done, ${counts("failed")} failed, ${counts("skipped")} skipped (apps: ${done.apps?.join(", ") ?? "all"}; for: ${job.reasons.join("; ")})`
  )
  return {
    outcome: done.outcome,
    startedAt,
    finishedAt,
    apps: done.apps,
    runs: done.runs,
    notes
  } satisfies JobReport
})
