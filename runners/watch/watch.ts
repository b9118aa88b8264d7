/**
 * `moor watch` without the command line: the loop (./loop.ts) running the same reconcile pass as
 * `moor apply` (trigger `watch`) on the spec as it is now (./spec-cache.ts), woken early by engine
 * events (./follow-events.ts), beating on the bus after each pass and at each tick (./heartbeat.ts),
 * and recording each pass in the process's `Heartbeat` (runners/http/heartbeat.ts) when there is one.
 *
 * The Docker service is built here from the spec's engines, and built again when they change;
 * the hosts' event streams follow the engines, hosts and scope of the last spec that loaded.
 */
import { Clock, Effect, Fiber, Option, Schedule, type Scope } from "effect"
import type { Bus } from "../../adapters/bus/Bus.ts"
import { Docker, type DockerError, type DockerShape, type EngineEvent } from "../../adapters/docker/Docker.ts"
import type { EngineConfig } from "../../adapters/docker/endpoint.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import type { Repo } from "../../adapters/repo/Repo.ts"
import { formatProblem } from "../../adapters/spec/SpecLoader.ts"
import { actionLine } from "../../core/describe.ts"
import type { Policy } from "../../core/model/policy.ts"
import { formatDuration } from "../../core/plan/format.ts"
import { secretsOfDesired } from "../../core/redact.ts"
import type { ActionResult } from "../execute/result.ts"
import { beatOf, Heartbeat } from "../http/heartbeat.ts"
import { newPassId } from "../pass/ids.ts"
import type { LeaseOptions } from "../pass/leases.ts"
import { reconcilePass } from "../pass/pass.ts"
import { type FollowOptions, followHost } from "./follow-events.ts"
import { makeBeater } from "./heartbeat.ts"
import { makeWatchLoop, type PassOutcome, type PassReport, type Trigger, type WatchLoop } from "./loop.ts"
import { outcomeOf } from "./outcome.ts"
import type { SpecCache } from "./spec-cache.ts"
import { inspectingSuspects, makeSuspects } from "./suspects.ts"

export interface WatchConfig {
  readonly spec: SpecCache
  readonly policy: Policy
  readonly intervalMs: number
  /** Wait after an engine event before the pass (default 250 ms). */
  readonly debounceMs?: number | undefined
  /** First retry after an unreachable host (default 1 s). */
  readonly retryBaseMs?: number | undefined
  readonly maxRounds?: number | undefined
  readonly holder: string
  readonly lease?: LeaseOptions | undefined
  /** The Docker service for the spec's engines (default: the live engines). */
  readonly dockerFor?: ((engines: ReadonlyArray<EngineConfig>) => Effect.Effect<DockerShape, DockerError>) | undefined
  readonly follow?: FollowOptions | undefined
}

/** Holders are leased for 2 minutes (renewed while a pass runs); a held host is waited for 2 s at most. */
export const WATCH_LEASE: LeaseOptions = { ttlMs: 120_000, waitMs: 2_000 }

const resultLog = (r: ActionResult) => {
  const line = `${r.outcome} ${r.action.host}: ${actionLine(r.action)} in ${formatDuration(r.durationMs)}`
  return r.outcome === "done"
    ? Effect.logInfo(line)
    : Effect.logWarning(r.error === undefined ? line : `${line}: ${r.error}`)
}

const reportLog = (report: PassReport) => {
  const { outcome } = report
  const took = formatDuration(report.finishedAt - report.startedAt)
  const head = `pass ${outcome.runId ?? "-"} (${report.trigger}): ${outcome.status}`
  switch (outcome.status) {
    case "succeeded":
      return (outcome.actions ?? 0) === 0
        ? Effect.logDebug(`${head}, nothing to change, in ${took}`)
        : Effect.logInfo(`${head}, ${outcome.actions} change${outcome.actions === 1 ? "" : "s"} in ${took}`)
    case "unreachable":
      return Effect.logWarning(`${head} in ${took}; next try in ${formatDuration(report.nextInMs)}\n${outcome.detail}`)
    case "skipped":
      return Effect.logDebug(`${head}; next try in ${formatDuration(report.nextInMs)}`)
    case "partial":
    case "failed":
      return Effect.logWarning(`${head} in ${took}${outcome.detail === undefined ? "" : `\n${outcome.detail}`}`)
  }
}

/** Follows each host's events while the engines, hosts and scope stay the same. */
const makeFollowers = (
  scope: Scope.Scope,
  follow: FollowOptions | undefined,
  onDrift: (host: string, why: string, event?: EngineEvent) => Effect.Effect<void>
) => {
  const fibers = new Map<string, Fiber.Fiber<never>>()
  return (docker: DockerShape, dockerKey: string, hosts: ReadonlyArray<string>, specScope: string) =>
    Effect.gen(function* () {
      const wanted = new Map(hosts.map((h) => [`${dockerKey}\u0000${specScope}\u0000${h}`, h]))
      for (const [key, fiber] of fibers) {
        if (wanted.has(key)) continue
        fibers.delete(key)
        yield* Fiber.interrupt(fiber)
      }
      for (const [key, host] of wanted) {
        if (fibers.has(key)) continue
        fibers.set(
          key,
          yield* Effect.forkIn(
            followHost(docker, host, specScope, (why, event) => onDrift(host, why, event), follow),
            scope
          )
        )
      }
    })
}

/** Runs the watch loop until interrupted (the pass in flight finishes first). */
export const runWatch = (config: WatchConfig): Effect.Effect<never, never, Repo | Bus> =>
  Effect.scoped(
    Effect.gen(function* () {
      const runScope = yield* Effect.scope
      const dockerFor = config.dockerFor ?? DockerLive.make
      let docker: { readonly key: string; readonly shape: DockerShape } | undefined
      let specScope = ""
      let passes = 0
      const suspects = makeSuspects()
      const beater = yield* makeBeater(() => specScope)
      const heartbeat = yield* Effect.serviceOption(Heartbeat)

      const pass = (_trigger: Trigger): Effect.Effect<PassOutcome, never, Repo | Bus> =>
        Effect.gen(function* () {
          const first = passes++ === 0
          const snapshot = yield* Effect.result(config.spec.current)
          if (snapshot._tag === "Failure") {
            const message = snapshot.failure.message
            yield* Effect.logError(`the spec cannot be loaded; nothing is changed until it is fixed:\n${message}`)
            return { status: "skipped", detail: message } satisfies PassOutcome
          }
          const { loaded, changed } = snapshot.success
          specScope = loaded.desired.scope
          if (first || changed) {
            const apps = loaded.desired.apps.length
            const what = `${loaded.spec.root} (scope ${specScope}, ${apps} app${apps === 1 ? "" : "s"} on ${loaded.hosts.join(", ")})`
            yield* Effect.logInfo(
              first
                ? `watching ${what}: a pass every ${formatDuration(config.intervalMs)} and when a container dies or changes health`
                : `the spec changed, reloaded ${what}`
            )
            for (const p of loaded.spec.problems) yield* Effect.logWarning(`problem: ${formatProblem(p)}`)
          }
          const key = JSON.stringify(loaded.engines)
          if (docker?.key !== key) {
            const built = yield* Effect.result(dockerFor(loaded.engines))
            if (built._tag === "Failure") {
              const message = `the spec's engines cannot be used: ${built.failure.message}`
              yield* Effect.logError(message)
              return { status: "skipped", detail: message } satisfies PassOutcome
            }
            docker = { key, shape: built.success }
          }
          yield* follow(docker.shape, key, loaded.hosts, specScope)
          const id = yield* newPassId
          // The containers named by die, oom and pause events are inspected: the list lags behind.
          const shape = inspectingSuspects(docker.shape, suspects.take())
          const startedAt = yield* Clock.currentTimeMillis
          const result = yield* reconcilePass({
            id,
            trigger: "watch",
            desired: loaded.desired,
            policy: config.policy,
            hosts: loaded.hosts,
            maxRounds: config.maxRounds ?? 5,
            // Health changes come as events: no need to stay in the pass while containers start.
            settleMs: 0,
            holder: config.holder,
            lease: config.lease ?? WATCH_LEASE,
            onPlan: (plan, round) =>
              Effect.logInfo(
                `pass ${id}, round ${round}: ${plan.actions.length} action${plan.actions.length === 1 ? "" : "s"}`
              ),
            execute: { secrets: secretsOfDesired(loaded.desired), onResult: resultLog }
          }).pipe(Effect.provideService(Docker, shape), Effect.result)
          if (result._tag === "Failure")
            return {
              status: "unreachable",
              detail: `the state repository did not answer: ${result.failure.message}`
            } satisfies PassOutcome
          if (Option.isSome(heartbeat)) {
            const finishedAt = yield* Clock.currentTimeMillis
            yield* heartbeat.value.record(beatOf(result.success, { trigger: "watch", startedAt, finishedAt }))
          }
          return outcomeOf(result.success)
        })

      const loop: WatchLoop<Repo | Bus> = yield* makeWatchLoop({
        intervalMs: config.intervalMs,
        debounceMs: config.debounceMs,
        retryBaseMs: config.retryBaseMs,
        pass,
        afterPass: (report) => Effect.andThen(reportLog(report), beater.afterPass(report))
      })
      const follow = makeFollowers(runScope, config.follow, (host, why, event) =>
        Effect.andThen(
          Effect.sync(() => (event === undefined ? undefined : suspects.note(host, event))),
          loop.request(why)
        )
      )
      // A beat at each tick, also while a long pass runs.
      yield* beater.beat.pipe(
        Effect.delay(config.intervalMs),
        Effect.repeat(Schedule.spaced(config.intervalMs)),
        Effect.forkIn(runScope)
      )
      return yield* loop.run
    })
  )
