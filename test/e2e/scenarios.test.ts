/**
 * Every scenario of scenarios/ against the real engines (the same files test/unit/scenarios.test.ts
 * runs on the in-memory engine): engine A (Docker 20.10, API 1.41) and the current engine (Docker 26,
 * API 1.45), side by side. Each scenario has its own scope and app-name prefix per engine, publishes
 * only host ports 19000-19199 (on the engine's own address), and is cleaned up by its labels whatever
 * happens. A scenario with a `bug:` note shows a known bug: it must fail until the bug is fixed.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Semaphore } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { requireFixtures, testEngines } from "../support/docker-e2e.ts"
import { cleanupScenario, cleanupStale, makeLiveEngine } from "../support/scenario-live.ts"
import { knownBug, listScenarios, loadScenario, publishedOn, scenarioVars } from "../support/scenario-load.ts"
import { runScenario, verdict } from "../support/scenario-runner.ts"

const names = listScenarios()
/**
 * Scenarios at once per engine: they share nothing (scope, app names, host ports), and most of their
 * time is spent waiting on health checks, so a few run side by side; more would only load the engines.
 */
const LANES = Number(process.env.MOOR_SCENARIO_LANES ?? "2")
/** One token per engine: their scopes and names differ in the logs too. */
const runs = testEngines.map((engine) => ({
  engine,
  token: randomBytes(2).toString("hex"),
  lanes: Semaphore.makeUnsafe(LANES)
}))

beforeAll(async () => {
  const now = await Effect.runPromise(Clock.currentTimeMillis)
  for (const { engine } of runs) {
    await requireFixtures(engine)
    await cleanupStale(engine, now)
  }
})

afterAll(async () => {
  for (const { engine, token } of runs)
    for (const name of names) await cleanupScenario(scenarioVars(name, token).scope, engine)
})

describe.concurrent("scenarios on the real engines", () => {
  // Interleaved, engine by engine: vitest starts at most `maxConcurrency` (5) tests of the file at once,
  // counting those waiting for a lane, so one engine's queue must not hold every slot.
  for (const name of names) {
    for (const { engine, token, lanes } of runs) {
      it.live(
        `${engine.label}: ${name}${knownBug(name) === undefined ? "" : " (known bug: fails until fixed)"}`,
        () =>
          Effect.gen(function* () {
            const vars = scenarioVars(name, token)
            const scenario = publishedOn(yield* loadScenario(name, vars), engine.publishAddress)
            const outcome = yield* runScenario(scenario, yield* makeLiveEngine(vars.scope, engine)).pipe(
              Effect.ensuring(Effect.promise(() => cleanupScenario(vars.scope, engine)))
            )
            yield* Effect.log(`${engine.label}: ${name}: ${outcome.log.join("; ")}`)
            expect(yield* verdict(scenario, outcome)).toBe("")
          }).pipe(Effect.provide(Layer.mergeAll(Repo.layerMemory, Bus.layerMemory)), Semaphore.withPermit(lanes)),
        // Waiting for a lane counts too.
        240_000
      )
    }
  }
})
