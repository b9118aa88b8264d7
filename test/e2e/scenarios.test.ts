/**
 * Every scenario of scenarios/ against the real engine (the same files test/unit/scenarios.test.ts
 * runs on the in-memory engine). Each scenario has its own scope and app-name prefix, publishes only
 * host ports 19000-19199, and is cleaned up by its labels whatever happens. A scenario with a `bug:`
 * note shows a known bug: it must fail until the bug is fixed.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Semaphore } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { requireFixtures } from "../support/docker-e2e.ts"
import { cleanupScenario, cleanupStale, makeLiveEngine } from "../support/scenario-live.ts"
import { knownBug, listScenarios, loadScenario, scenarioVars } from "../support/scenario-load.ts"
import { runScenario, verdict } from "../support/scenario-runner.ts"

const token = randomBytes(2).toString("hex")
const names = listScenarios()
/**
 * Scenarios at once: they share nothing (scope, app names, host ports), and most of their time is
 * spent waiting on health checks, so a few run side by side; more would only load the shared engine.
 */
const LANES = Number(process.env.MOOR_SCENARIO_LANES ?? "2")
const lanes = Semaphore.makeUnsafe(LANES)

beforeAll(async () => {
  await requireFixtures()
  await cleanupStale(await Effect.runPromise(Clock.currentTimeMillis))
})

afterAll(async () => {
  for (const name of names) await cleanupScenario(scenarioVars(name, token).scope)
})

describe.concurrent("scenarios on the real engine", () => {
  for (const name of names) {
    it.live(
      knownBug(name) === undefined ? name : `${name} (known bug: fails until fixed)`,
      () =>
        Effect.gen(function* () {
          const vars = scenarioVars(name, token)
          const scenario = yield* loadScenario(name, vars)
          const outcome = yield* runScenario(scenario, yield* makeLiveEngine(vars.scope)).pipe(
            Effect.ensuring(Effect.promise(() => cleanupScenario(vars.scope)))
          )
          yield* Effect.log(`${name}: ${outcome.log.join("; ")}`)
          expect(yield* verdict(scenario, outcome)).toBe("")
        }).pipe(Effect.provide(Layer.mergeAll(Repo.layerMemory, Bus.layerMemory)), Semaphore.withPermit(lanes)),
      // Waiting for a lane counts too.
      240_000
    )
  }
})
