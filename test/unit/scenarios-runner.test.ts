/**
 * The scenario machinery itself: a wrong expectation fails with what differs, `untouched` sees a
 * restart that kept the id, the runner stops at the first failing step, and a mistake in a scenario
 * file is reported with its file, line and field.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { DockerMemory } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { loadScenario } from "../support/scenario-load.ts"
import { makeMemoryEngine } from "../support/scenario-memory.ts"
import { runScenario } from "../support/scenario-runner.ts"

const root = mkdtempSync(join(tmpdir(), "moor-scenarios-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const vars = { prefix: "sx", scope: "scn-test" }
const webApp = (port = 19190) =>
  `name: \${P}-shop\nservices:\n  web:\n    image: moor-fixture/app:1\n    ports: ["127.0.0.1:${port}:8080"]\n`

/** Writes a scenario directory: `files` by relative path. */
const scenario = (name: string, files: Readonly<Record<string, string>>): string => {
  for (const [path, text] of Object.entries(files)) {
    const file = join(root, name, path)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text)
  }
  return name
}

const run = (name: string) =>
  Effect.gen(function* () {
    const loaded = yield* loadScenario(name, vars, root)
    return yield* runScenario(loaded, yield* makeMemoryEngine)
  }).pipe(Effect.provide(Layer.mergeAll(DockerMemory.layer(), Repo.layerMemory, Bus.layerMemory)))

const loadError = (name: string) =>
  Effect.gen(function* () {
    const r = yield* Effect.result(loadScenario(name, vars, root))
    if (Result.isSuccess(r)) throw new Error("expected the scenario not to load")
    return r.failure.message
  })

describe("the scenario runner", () => {
  it.effect("a wrong expectation fails with what differs, and the steps after it do not run", () =>
    Effect.gen(function* () {
      const name = scenario("01-wrong", {
        "v1/shop/compose.yaml": webApp(),
        "scenario.yaml": [
          "description: wrong on purpose",
          "steps:",
          "  - pass: v1",
          "    expect:",
          "      run: failed",
          "      actions: []",
          '      containers: { "${P}-shop-web-1": { state: exited } }',
          '      kept: ["${P}-shop-web-1"]',
          '      apps: { "${P}-shop": failed }',
          "      checks:",
          "        - http: { port: 19190, path: /version, body: '2' }",
          "  - kill: ${P}-shop-web-1"
        ].join("\n")
      })
      const outcome = yield* run(name)
      const text = outcome.failures.join("\n")
      expect(outcome.failures[0]).toBe("01-wrong on the memory engine, step 1 (pass v1):")
      expect(text).toContain("run: succeeded, expected failed")
      expect(text).toContain(
        "actions: missing (none); unexpected local/sx-shop/web:create done, local/sx-shop/web:start done, local:network:sx-shop_default done"
      )
      expect(text).toContain("container sx-shop-web-1: state running, expected exited")
      expect(text).toContain("kept sx-shop-web-1: there was no such container before the pass")
      expect(text).toContain("app states (final plan): missing sx-shop failed; unexpected sx-shop running")
      expect(text).toContain("app states (repository): missing sx-shop failed; unexpected sx-shop running")
      expect(text).toContain('GET 127.0.0.1:19190/version does not answer "2" (HTTP 200: "1\\n")')
      expect(outcome.log).toHaveLength(1)
    })
  )

  it.effect("untouched sees a container that was started again under the same id", () =>
    Effect.gen(function* () {
      const name = scenario("02-restarted", {
        "v1/shop/compose.yaml": webApp(),
        "scenario.yaml": [
          "description: a kill, then a pass that starts it again",
          "steps:",
          "  - pass: v1",
          "  - kill: ${P}-shop-web-1",
          "  - pass: v1",
          "    expect:",
          '      kept: ["${P}-shop-web-1"]',
          '      untouched: ["${P}-shop-web-1"]'
        ].join("\n")
      })
      const text = (yield* run(name)).failures.join("\n")
      expect(text).toMatch(/untouched sx-shop-web-1: was exited \(137\) none moor-fixture\/app:1 .* now running/)
      expect(text).not.toContain("kept sx-shop-web-1")
    })
  )

  it.effect("a step on a container that does not exist fails and names the ones that do", () =>
    Effect.gen(function* () {
      const name = scenario("03-missing", {
        "v1/shop/compose.yaml": webApp(),
        "scenario.yaml": "description: x\nsteps:\n  - pass: v1\n  - pause: ${P}-shop-api-1\n"
      })
      expect((yield* run(name)).failures).toEqual([
        "03-missing on the memory engine, step 2 (pause sx-shop-api-1):",
        "  no container sx-shop-api-1 to pause (there are: sx-shop-web-1)"
      ])
    })
  )
})

describe("loading a scenario file", () => {
  it.effect("reports each mistake with its file, line and field", () =>
    Effect.gen(function* () {
      const name = scenario("04-bad", {
        "v1/shop/compose.yaml": webApp(),
        "scenario.yaml": [
          "description: bad",
          "steps:",
          "  - pass: v1",
          "    expect:",
          "      run: succeded",
          "      contianers: {}",
          "  - kil: x",
          "  - wait: { container: x, state: gone }",
          "  - { kill: x, pause: x }"
        ].join("\n")
      })
      const lines = (yield* loadError(name)).split("\n").map((l) => l.replace(/^.*04-bad\//, ""))
      expect(lines).toEqual([
        "scenario.yaml:6: steps[0].expect.contianers: unknown key (the format is in scenarios/README.md)",
        'scenario.yaml:5: steps[0].expect.run: Expected "succeeded" | "partial" | "failed"',
        "scenario.yaml:7: steps[1]: a step needs one of the keys pass, kill, pause, stop, remove, unhealthy, foreign, write, wait, engine (found: kil)",
        'scenario.yaml:8: steps[2].wait.state: Expected "created" | "running" | "paused" | "restarting" | "exited" | "dead" | "removing"',
        "scenario.yaml:9: steps[3]: one step, one kind: kill and pause found together"
      ])
    })
  )

  it.effect("says to quote ${P} inside [ ] and { }", () =>
    Effect.gen(function* () {
      const name = scenario("05-flow", {
        "v1/shop/compose.yaml": webApp(),
        "scenario.yaml": "description: x\nsteps:\n  - pass: v1\n    expect:\n      kept: [${P}-shop-web-1]\n"
      })
      expect(yield* loadError(name)).toMatch(
        /scenario\.yaml:5: not valid YAML: .*\(inside \[ \] or \{ \}, quote values holding \$\{P\}: "\$\{P\}-web-1"\)$/
      )
    })
  )

  it.effect("refuses host ports outside the scenarios' range and doubles of hooks nobody uses", () =>
    Effect.gen(function* () {
      const ports = scenario("06-port", {
        "v1/shop/compose.yaml": webApp(8080),
        "scenario.yaml": "description: x\nsteps:\n  - pass: v1\n"
      })
      expect(yield* loadError(ports)).toMatch(
        /06-port\/v1: host ports 8080 are outside the scenarios' range 19000-19199$/
      )
      const hooks = scenario("07-hook", {
        "v1/shop/compose.yaml": webApp(),
        "scenario.yaml": "description: x\nfake:\n  hooks:\n    hooks/nope.sh: { exitCode: 0 }\nsteps:\n  - pass: v1\n"
      })
      expect(yield* loadError(hooks)).toMatch(
        /fake\.hooks names scripts no on_start uses: hooks\/nope\.sh \(used: none\)$/
      )
    })
  )

  it.effect("a spec with a problem is reported with the loader's message", () =>
    Effect.gen(function* () {
      const name = scenario("08-spec", {
        "v1/shop/compose.yaml":
          "name: ${P}-shop\nservices:\n  web:\n    image: moor-fixture/app:1\n    restart: sometimes\n",
        "scenario.yaml": "description: x\nsteps:\n  - pass: v1\n"
      })
      expect(yield* loadError(name)).toMatch(/compose\.yaml:5.*restart/)
    })
  )
})
