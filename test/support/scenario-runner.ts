/**
 * Runs a scenario on an engine: its steps in order (passes with `reconcilePass`, the thing every
 * runner calls; and what the world does between them), checking each pass's expectations. Stops at
 * the first step that goes wrong (later steps build on it) and returns every mismatch of that step,
 * with what the pass did, for the failure message.
 */
import { Clock, Effect } from "effect"
import type { Bus } from "../../adapters/bus/Bus.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { reconcilePass } from "../../runners/pass/pass.ts"
import { type ContainerView, HOST, type ScenarioEngine } from "./scenario-engine.ts"
import { checkPass, describeObservation, type PassObservation } from "./scenario-expect.ts"
import type { Check, Step } from "./scenario-format.ts"
import type { Scenario } from "./scenario-load.ts"

export interface ScenarioOutcome {
  /** Empty when every step went as expected. */
  readonly failures: ReadonlyArray<string>
  /** One line per step, with how long it took. */
  readonly log: ReadonlyArray<string>
}

const POLL_MS = 100
const WAIT_DEFAULT_MS = 20_000
/** How long an HTTP or file check may take to come true (a server still binding its port). */
const CHECK_WAIT_MS = 10_000
/** After changes, a pass keeps looking this long while containers are still starting (as `moor apply` does). */
const SETTLE_MS = 30_000

export const describeStep = (step: Step): string => {
  if ("pass" in step) return `pass ${step.pass}${step.note === undefined ? "" : `: ${step.note}`}`
  if ("foreign" in step) return `foreign ${step.foreign.name}`
  if ("write" in step) return `write ${step.write.volume}/${step.write.path}`
  if ("wait" in step)
    return `wait until ${step.wait.container} is ${step.wait.state}${step.wait.health === undefined ? "" : ` ${step.wait.health}`}`
  if ("engine" in step) return `engine ${step.engine}`
  const [kind, target] = Object.entries(step)[0] ?? ["?", "?"]
  return `${kind} ${String(target)}`
}

/** Polls `probe` until it gives a value, or `timeoutMs` passes (then undefined). */
const poll = <A>(engine: ScenarioEngine, timeoutMs: number, probe: Effect.Effect<A | undefined>) =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
    for (;;) {
      const value = yield* probe
      if (value !== undefined) return value
      if ((yield* Clock.currentTimeMillis) >= deadline) return undefined
      yield* engine.sleep(POLL_MS)
    }
  })

const runCheck = (engine: ScenarioEngine, check: Check): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    if ("http" in check) {
      const { port, container, path, body } = check.http
      const where = container === undefined ? `127.0.0.1:${port}` : `${container}:${port}`
      let last = "nothing answered"
      const ok = yield* poll(
        engine,
        CHECK_WAIT_MS,
        Effect.map(engine.http({ port, container }, path), (answer) => {
          if (answer === undefined) return undefined
          last = `HTTP ${answer.status}: ${JSON.stringify(answer.body)}`
          return answer.status === 200 && answer.body.includes(body) ? true : undefined
        })
      )
      return ok === undefined ? `GET ${where}${path} does not answer ${JSON.stringify(body)} (${last})` : undefined
    }
    const { volume, path, content } = check.file
    let last: string | undefined
    const ok = yield* poll(
      engine,
      CHECK_WAIT_MS,
      Effect.map(engine.readFile(volume, path), (text) => {
        last = text
        return text === content ? true : undefined
      })
    )
    return ok === undefined
      ? `file ${path} in volume ${volume}: ${last === undefined ? "missing" : JSON.stringify(last)}, expected ${JSON.stringify(content)}`
      : undefined
  })

export const runScenario = (scenario: Scenario, engine: ScenarioEngine) =>
  Effect.gen(function* () {
    const repo = yield* Repo
    const { scope } = scenario.vars
    const foreign: Array<string> = []
    const log: Array<string> = []
    const snapshot = engine.snapshot(scope, foreign)
    const appStates = repo.appStates(scope, HOST).pipe(Effect.orDie)
    const find = (name: string) => Effect.map(snapshot, (cs) => cs.find((c) => c.name === name))
    const present = (name: string, doing: string) =>
      Effect.gen(function* () {
        const all = yield* snapshot
        return all.some((c) => c.name === name)
          ? undefined
          : `no container ${name} to ${doing} (there are: ${all.map((c) => c.name).join(", ") || "none"})`
      })

    const runPass = (index: number, step: Extract<Step, { readonly pass: string }>) =>
      Effect.gen(function* () {
        const desired = scenario.specs.get(step.pass)!
        const before = yield* snapshot
        const repoBefore = yield* appStates
        const result = yield* engine.timed(
          reconcilePass({
            id: `p${index + 1}`,
            trigger: "cli",
            desired,
            policy: scenario.policy,
            hosts: desired.hosts.map((h) => h.name),
            holder: `scenario:${scope}`,
            lease: { ttlMs: 60_000, waitMs: 0 },
            settleMs: SETTLE_MS
          }).pipe(Effect.provide(engine.docker()), Effect.orDie)
        )
        const after = yield* snapshot
        const observation: PassObservation = {
          result,
          before,
          after,
          repoBefore,
          repoAfter: yield* appStates,
          volumes: yield* engine.volumes(scope),
          managed: new Set(after.filter((c) => !foreign.includes(c.name)).map((c) => c.name))
        }
        const expect = step.expect ?? {}
        if (process.env.MOOR_SCENARIO_DEBUG !== undefined)
          yield* Effect.log(`${scenario.name} pass ${index + 1}:\n${describeObservation(observation)}`)
        const failures = checkPass(expect, observation)
        for (const check of expect.checks ?? []) {
          const t0 = yield* Clock.currentTimeMillis
          const problem = yield* runCheck(engine, check)
          if (problem !== undefined) failures.push(problem)
          if (process.env.MOOR_SCENARIO_DEBUG !== undefined)
            yield* Effect.log(`check ${JSON.stringify(check)}: ${(yield* Clock.currentTimeMillis) - t0} ms`)
        }
        return failures.length === 0 ? [] : [...failures, `what happened:\n${describeObservation(observation)}`]
      })

    const runStep = (index: number, step: Step): Effect.Effect<ReadonlyArray<string>, never, Repo | Bus> =>
      Effect.gen(function* () {
        if ("pass" in step) return yield* runPass(index, step)
        if ("foreign" in step) {
          const { name, image, labels } = step.foreign
          yield* engine.foreign({ name, image, labels: labels ?? {} })
          foreign.push(name)
          const up = yield* poll(
            engine,
            WAIT_DEFAULT_MS,
            Effect.map(find(name), (c) =>
              c?.state === "running" && (c.health === "none" || c.health === "healthy") ? c : undefined
            )
          )
          return up === undefined ? [`foreign container ${name} did not come up`] : []
        }
        if ("write" in step) {
          yield* engine.writeFile(step.write.volume, step.write.path, step.write.content)
          return []
        }
        if ("wait" in step) {
          const { container, state, health, timeoutMs } = step.wait
          let last: ContainerView | undefined
          const reached = yield* poll(
            engine,
            timeoutMs ?? WAIT_DEFAULT_MS,
            Effect.map(find(container), (c) => {
              last = c
              return c?.state === state && (health === undefined || c.health === health) ? c : undefined
            })
          )
          const wanted = health === undefined ? state : `${state} ${health}`
          return reached === undefined
            ? [
                `${container} did not become ${wanted} (it is ${last === undefined ? "missing" : `${last.state} ${last.health}`})`
              ]
            : []
        }
        if ("engine" in step) {
          yield* engine.setReachable(step.engine === "reachable")
          return []
        }
        const [kind, name] = Object.entries(step)[0] as [string, string]
        const missing = yield* present(name, kind)
        if (missing !== undefined) return [missing]
        if ("kill" in step) yield* engine.kill(name)
        else if ("pause" in step) yield* engine.pause(name)
        else if ("stop" in step) yield* engine.stop(name)
        else if ("remove" in step) yield* engine.remove(name)
        else if ("unhealthy" in step) yield* engine.unhealthy(name)
        return []
      })

    yield* engine.playHooks(scenario.hooks)
    for (const [index, step] of scenario.steps.entries()) {
      const what = `step ${index + 1} (${describeStep(step)})`
      const t0 = yield* Clock.currentTimeMillis
      const failures = yield* runStep(index, step)
      log.push(`${what}: ${(yield* Clock.currentTimeMillis) - t0} ms${failures.length === 0 ? "" : " FAILED"}`)
      if (failures.length > 0) {
        return {
          failures: [`${scenario.name} on the ${engine.kind} engine, ${what}:`, ...failures.map((f) => `  ${f}`)],
          log
        } satisfies ScenarioOutcome
      }
    }
    return { failures: [], log } satisfies ScenarioOutcome
  })

/**
 * What is wrong with an outcome ("" when nothing): a scenario's mismatches, or, for a scenario
 * marked with a known bug, that it passes now (the note must go). A known bug's mismatches are logged.
 */
export const verdict = (scenario: Scenario, outcome: ScenarioOutcome): Effect.Effect<string> => {
  const failures = outcome.failures.join("\n")
  if (scenario.bug === undefined) return Effect.succeed(failures)
  if (failures === "")
    return Effect.succeed(
      `${scenario.name} is marked as showing a known bug, but it passes now: if the bug is fixed, remove the bug: note from its scenario.yaml`
    )
  return Effect.as(Effect.logWarning(`${scenario.name} shows a known bug, as expected:\n${failures}`), "")
}
