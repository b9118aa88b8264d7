/**
 * One reconcile pass: take the hosts' leases, then observe, plan and apply, again while the plan
 * still has changes and the last round made progress (health and hooks change what comes next),
 * up to a bounded number of rounds. Every host gets a run record; restarts moor made feed the
 * restart budget; app states are synced three ways; transitions are published. The repo is the
 * source of truth: a repo or bus that fails is logged, never a reason to leave a host half done.
 *
 * A pass writes to an engine only to act on it: it observes and plans without the engine's lock,
 * and a plan with nothing to do ends the pass there (a quiet pass only lists). A plan with changes
 * first takes the lock of each host it changes, then observes and plans again under them, and acts
 * on that plan, each action only while the pass still holds the host (hold.ts).
 */
import { Duration, Effect } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { eventTime, type RunLifecycleEvent, type RunStatus } from "../../adapters/bus/events.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import type { RunTrigger } from "../../adapters/repo/records.ts"
import { hasChanges } from "../../core/describe.ts"
import { Label } from "../../core/names.ts"
import type { DesiredState } from "../../core/model/desired.ts"
import { type Action, type Plan, passiveKinds } from "../../core/model/plan.ts"
import type { Policy } from "../../core/model/policy.ts"
import { placementOf } from "../../core/plan/apps.ts"
import { plan as makePlan } from "../../core/plan/plan.ts"
import { selectApps } from "../../core/select.ts"
import { type ExecuteOptions, execute } from "../execute/executor.ts"
import type { ActionResult } from "../execute/result.ts"
import { dryRunHold, type Hold, holdHosts } from "./hold.ts"
import { acquireLeases, type LeaseOptions, type Leases, releaseLeases } from "./leases.ts"
import { observeHosts } from "./observe.ts"
import { runIdOf } from "./ids.ts"

export interface PassInput {
  readonly id: string
  readonly trigger: RunTrigger
  readonly desired: DesiredState
  readonly policy: Policy
  /** Every host the spec declares. */
  readonly hosts: ReadonlyArray<string>
  /** Only these apps (and what they depend on). */
  readonly apps?: ReadonlyArray<string> | undefined
  /** Plan only: observe and plan once, change nothing, record nothing. */
  readonly dryRun?: boolean | undefined
  readonly maxRounds?: number | undefined
  readonly holder: string
  readonly lease: LeaseOptions
  readonly execute?: Omit<ExecuteOptions, "scope"> | undefined
  /** After changes, how long to keep looking while containers are still starting (default 0). */
  readonly settleMs?: number | undefined
  /** Called with each round's plan before it is applied. */
  readonly onPlan?: ((plan: Plan, round: number) => Effect.Effect<void>) | undefined
}

export interface HostRun {
  readonly id: string
  readonly host: string
  readonly status: RunStatus
  readonly error?: string
}

export interface PassResult {
  readonly id: string
  readonly runs: ReadonlyArray<HostRun>
  readonly rounds: number
  /** The first round's plan: what the pass set out to do. */
  readonly firstPlan: Plan
  /** The plan of the last observation: what is left, and the app states. */
  readonly finalPlan: Plan
  readonly results: ReadonlyArray<ActionResult>
}

const summaryOf = (plan: Plan, results: ReadonlyArray<ActionResult>) => ({
  actions: plan.actions.length,
  done: results.filter((r) => r.outcome === "done").length,
  failed: results.filter((r) => r.outcome === "failed").length,
  skipped: results.filter((r) => r.outcome === "skipped").length
})

/**
 * How a host's run ended: failed when nothing could be done (or the host was left alone), partial
 * when some of it failed or the pass stopped acting on it (its lease or engine lock lost).
 */
const statusOf = (
  host: string,
  finalPlan: Plan,
  results: ReadonlyArray<ActionResult>,
  hold: Hold
): { status: RunStatus; error?: string } => {
  const leftAlone = hold.leftAlone.get(host)
  if (leftAlone !== undefined) return { status: "failed", error: leftAlone }
  const hostSummary = finalPlan.hosts.find((h) => h.host === host)
  if (hostSummary?.status === "unknown")
    return { status: "failed", error: `host ${host} is unknown: ${hostSummary.reason ?? "no answer"}` }
  const mine = results.filter((r) => r.action.host === host)
  const failed = mine.filter((r) => r.outcome === "failed")
  const apps = finalPlan.apps.filter((a) => a.host === host)
  const bad = apps.filter((a) => a.state === "failed" || a.skipped !== undefined)
  const lost = hold.lost(host)
  const problems = [
    ...(lost === undefined ? [] : [`stopped acting: ${lost}`]),
    ...failed.map((r) => `${r.action.id}: ${r.error ?? "failed"}`),
    ...bad.map((a) => `app ${a.app}: ${a.skipped ?? a.state}`)
  ]
  if (problems.length === 0) return { status: "succeeded" }
  const anyDone = mine.some((r) => r.outcome === "done") || apps.some((a) => a.state === "running")
  return { status: anyDone ? "partial" : "failed", error: problems.join("\n") }
}

const SETTLE_POLL_MS = 500

/** How far back restarts count: the policy's window, or a service's own (`deploy.restart_policy.window`) when longer. */
const restartWindowOf = (desired: DesiredState, policy: Policy): number => {
  let window = policy.restartWindowMs
  for (const app of desired.apps)
    for (const s of Object.values(app.services)) window = Math.max(window, s.restartBudget?.windowMs ?? 0)
  return window
}

/** Some container's health check has not passed yet (whatever its app's state). */
const stillStarting = (plan: Plan): boolean =>
  plan.apps.some((a) => a.services.some((s) => s.state === "running starting"))

/** The hosts on which a plan changes something. */
const changedHosts = (plan: Plan): ReadonlyArray<string> => [
  ...new Set(plan.actions.filter((a) => !passiveKinds.has(a._tag)).map((a) => a.host))
]

const serviceOf = (a: Action): string | undefined => ("service" in a ? a.service : undefined)

const logRepo = (what: string) => (e: { readonly message: string }) => Effect.logWarning(`repo: ${what}: ${e.message}`)

export const reconcilePass = Effect.fn("reconcilePass")(function* (input: PassInput) {
  const repo = yield* Repo
  const bus = yield* Bus
  const scope = input.desired.scope
  const dryRun = input.dryRun === true
  const now = () => Effect.clockWith((c) => c.currentTimeMillis)

  const leases: Leases = dryRun
    ? { held: [...input.hosts], busy: new Map(), abandoned: [], expiresAt: new Map() }
    : yield* acquireLeases(scope, input.hosts, input.holder, input.lease)
  for (const id of leases.abandoned)
    yield* Effect.logWarning(`run ${id} was abandoned by a runner that died; its lease was taken over`)

  const body = Effect.gen(function* () {
    const hold = dryRun ? dryRunHold : yield* holdHosts(scope, leases, input.holder, input.lease)
    const runs = new Map<string, RunStatus>()
    // A quiet pass publishes nothing: a host's run events wait until the run turns out to act (its
    // first plan has changes for the host) or to fail; a quiet run that succeeds is only recorded.
    const held = new Map<string, Array<RunLifecycleEvent>>()
    const announced = new Set<string>()
    const publishRun = (
      host: string,
      previous: RunStatus | null,
      status: RunStatus,
      extra: { summary?: ReturnType<typeof summaryOf>; error?: string } = {}
    ) =>
      Effect.gen(function* () {
        const event: RunLifecycleEvent = {
          type: "run.lifecycle",
          scope,
          runId: runIdOf(input.id, host),
          host,
          trigger: input.trigger,
          previous,
          status,
          at: yield* eventTime,
          ...(extra.summary === undefined ? {} : { summary: extra.summary }),
          ...(extra.error === undefined ? {} : { error: extra.error })
        }
        if (announced.has(host)) yield* bus.publish(event)
        else held.set(host, [...(held.get(host) ?? []), event])
      })
    const announce = (host: string) =>
      Effect.gen(function* () {
        if (announced.has(host)) return
        announced.add(host)
        for (const event of held.get(host) ?? []) yield* bus.publish(event)
        held.delete(host)
      })
    const placement = placementOf(input.desired)
    /** Brings the repo's app states of a host in line with a plan's observation; publishes the transitions. */
    const syncHost = (host: string, plan: Plan) =>
      Effect.gen(function* () {
        const observedHost = plan.hosts.find((h) => h.host === host)
        const transitions = yield* repo
          .syncAppStates(
            scope,
            host,
            {
              specApps: [...placement].filter(([, hosts]) => hosts.includes(host)).map(([app]) => app),
              observed: observedHost?.status === "unknown" ? "unreachable" : plan.apps.filter((a) => a.host === host)
            },
            yield* now()
          )
          .pipe(Effect.catch((e) => Effect.as(logRepo("sync app states")(e), [])))
        for (const t of transitions) {
          const summary = plan.apps.find((a) => a.host === host && a.app === t.app)
          yield* bus.publish({
            type: "app.state",
            scope,
            host,
            app: t.app,
            previous: t.from ?? null,
            current: t.to ?? null,
            specHash: summary?.specHash ?? "",
            runId: runIdOf(input.id, host),
            at: yield* eventTime
          })
        }
      })
    if (!dryRun) {
      const startedAt = yield* now()
      for (const host of leases.held) {
        yield* repo
          .createRun({
            id: runIdOf(input.id, host),
            trigger: input.trigger,
            scope,
            host,
            holder: input.holder,
            startedAt
          })
          .pipe(
            Effect.tap(() => Effect.sync(() => runs.set(host, "pending"))),
            Effect.catch(logRepo("create run"))
          )
        if (runs.has(host)) yield* publishRun(host, null, "pending")
      }
    }

    const planOf = (observed: Parameters<typeof makePlan>[1]) => {
      const full = makePlan(input.desired, observed, input.policy)
      return input.apps === undefined ? full : selectApps(full, input.apps)
    }
    const results: Array<ActionResult> = []
    const passStartedAt = yield* now()
    const restartWindowMs = restartWindowOf(input.desired, input.policy)
    const maxRounds = input.maxRounds ?? 5
    let firstPlan: Plan | undefined
    let started = false
    let round = 0
    let progress = true
    let current: Plan
    let settleUntil: number | undefined
    for (;;) {
      const observed = yield* observeHosts(scope, input.hosts, hold.leftAlone, restartWindowMs, passStartedAt)
      current = planOf(observed)
      // What the pass set out to do: the plan it first acted on (made under the engine locks), or found quiet.
      if (round === 0) firstPlan = current
      if (!started) {
        started = true
        if (!dryRun) {
          for (const host of leases.held) {
            if (runs.get(host) !== "pending") continue
            const summary = JSON.stringify(summaryOf(current, []))
            yield* repo.setRunStatus(runIdOf(input.id, host), { status: "running", planSummary: summary }).pipe(
              Effect.tap(() => Effect.sync(() => runs.set(host, "running"))),
              Effect.catch(logRepo("start run"))
            )
            if (runs.get(host) === "running")
              yield* publishRun(host, "pending", "running", { summary: summaryOf(current, []) })
            // What the pass found is a state of its own (a killed container: running -> degraded),
            // before what it makes of it (-> running).
            if (current.actions.some((a) => a.host === host && !passiveKinds.has(a._tag))) yield* announce(host)
            yield* syncHost(host, current)
          }
        }
      }
      if (dryRun) break
      // Done: nothing left to change, or no way forward (no progress, or the rounds are spent).
      if (!hasChanges(current) || !progress || round >= maxRounds) {
        // Containers this pass started may still be starting: look again, briefly, so the states it
        // reports are the ones they settle in (and a container that fails meanwhile is seen).
        const at = yield* now()
        if (round > 0 && settleUntil === undefined) settleUntil = at + (input.settleMs ?? 0)
        if (settleUntil !== undefined && at < settleUntil && stillStarting(current)) {
          yield* Effect.sleep(Duration.millis(SETTLE_POLL_MS))
          continue
        }
        break
      }
      // Acting needs the engine lock of each host the plan changes: take those missing, look again.
      if (yield* hold.lock(changedHosts(current))) continue
      round++
      if (input.onPlan !== undefined) yield* input.onPlan(current, round)
      const roundResults = yield* execute(current, { ...input.execute, scope, fence: hold.fence })
      results.push(...roundResults)
      progress = roundResults.some((r) => r.outcome === "done" && !passiveKinds.has(r.action._tag))
      for (const r of roundResults) {
        const a = r.action
        // A replacement for a new spec that failed (and was rolled back) is remembered, so that the
        // next passes do not try the same spec again and again; one that worked is forgotten.
        if (a._tag === "recreate" && a.restartOf === undefined && r.outcome !== "skipped") {
          const specHash = a.container.labels[Label.hash] ?? ""
          yield* (
            r.outcome === "failed"
              ? repo.recordFailedRollout({
                  scope,
                  host: a.host,
                  app: a.app,
                  service: a.service,
                  specHash,
                  at: r.startedAt,
                  error: r.error ?? "failed"
                })
              : repo.clearFailedRollout(scope, a.host, a.app, a.service)
          ).pipe(Effect.catch(logRepo("record a rollout")))
        }
        // A pull moor made is remembered: pull_policy daily, weekly, every_N count from it.
        if (a._tag === "pull-image" && r.outcome === "done")
          yield* repo
            .recordPull({ scope, host: a.host, image: a.image, at: r.startedAt })
            .pipe(Effect.catch(logRepo("record a pull")))
        const service = serviceOf(r.action)
        if (r.outcome === "done" && r.action.restartOf !== undefined && service !== undefined) {
          yield* repo
            .recordRestart({
              scope,
              host: r.action.host,
              app: r.action.app,
              service,
              at: r.startedAt,
              specHash: r.action.restartOf
            })
            .pipe(Effect.catch(logRepo("record restart")))
        }
      }
      for (const host of leases.held) {
        if (!runs.has(host)) continue
        const rows = roundResults
          .filter((r) => r.action.host === host)
          .map((r) => ({
            actionId: `${round}:${r.action.id}`,
            kind: r.action._tag,
            host,
            app: r.action.app,
            service: serviceOf(r.action),
            reason: r.action.reason,
            outcome: r.outcome,
            error: r.error,
            startedAt: r.startedAt,
            finishedAt: r.startedAt + r.durationMs
          }))
        if (rows.length > 0)
          yield* repo.recordActions(runIdOf(input.id, host), rows).pipe(Effect.catch(logRepo("record actions")))
      }
    }
    const finalPlan = current
    const first = firstPlan ?? finalPlan

    const hostRuns: Array<HostRun> = []
    if (!dryRun) {
      const at = yield* now()
      for (const host of leases.held) {
        yield* syncHost(host, finalPlan)
        const outcome = statusOf(host, finalPlan, results, hold)
        const previous = runs.get(host)
        if (previous !== undefined) {
          yield* repo
            .setRunStatus(runIdOf(input.id, host), {
              status: outcome.status,
              at,
              ...(outcome.error === undefined ? {} : { error: outcome.error })
            })
            .pipe(Effect.catch(logRepo("finish run")))
          if (outcome.status !== "succeeded") yield* announce(host)
          yield* publishRun(host, previous, outcome.status, {
            summary: summaryOf(
              first,
              results.filter((r) => r.action.host === host)
            ),
            ...(outcome.error === undefined ? {} : { error: outcome.error })
          })
        }
        hostRuns.push({ id: runIdOf(input.id, host), host, ...outcome })
      }
    }
    for (const [host, why] of leases.busy)
      hostRuns.push({ id: runIdOf(input.id, host), host, status: "failed", error: why })
    return { id: input.id, runs: hostRuns, rounds: round, firstPlan: first, finalPlan, results } satisfies PassResult
  })

  return yield* Effect.scoped(body).pipe(
    Effect.ensuring(dryRun ? Effect.void : releaseLeases(scope, leases.held, input.holder))
  )
})
