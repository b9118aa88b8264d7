/**
 * Every scenario of scenarios/ on the in-memory engine, under the TestClock: the same files
 * test/e2e/scenarios.test.ts runs against the real engine, so the fake is held to reality.
 * A scenario with a `bug:` note shows a known bug: it must fail until the bug is fixed.
 */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { DockerMemory } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { knownBug, listScenarios, loadScenario, scenarioVars } from "../support/scenario-load.ts"
import { makeMemoryEngine } from "../support/scenario-memory.ts"
import { runScenario, verdict } from "../support/scenario-runner.ts"

const token = randomBytes(2).toString("hex")

describe("scenarios on the in-memory engine", () => {
  for (const name of listScenarios()) {
    const bug = knownBug(name)
    it.effect(bug === undefined ? name : `${name} (known bug: fails until fixed)`, () =>
      Effect.gen(function* () {
        const scenario = yield* loadScenario(name, scenarioVars(name, token))
        const outcome = yield* runScenario(scenario, yield* makeMemoryEngine)
        expect(yield* verdict(scenario, outcome)).toBe("")
      }).pipe(Effect.provide(Layer.mergeAll(DockerMemory.layer(), Repo.layerMemory, Bus.layerMemory)))
    )
  }
})
