/**
 * The Action's inputs: defaults, checks with clear messages, and action.yml in step with the code
 * (the runner supplies action.yml's defaults; a direct `node dist/action.js` relies on the code's).
 */
import { readFileSync } from "node:fs"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { inputDefaults, parseApps, readInputs } from "../../runners/action/inputs.ts"

const read = (inputs: Record<string, string>) => readInputs((name) => inputs[name] ?? "")

interface ActionYaml {
  readonly runs: { readonly using: string; readonly main: string }
  readonly inputs: Record<
    string,
    { readonly default?: string; readonly required?: boolean; readonly description: string }
  >
  readonly outputs: Record<string, { readonly description: string }>
}
const actionYaml = parse(readFileSync(new URL("../../action.yml", import.meta.url), "utf8")) as ActionYaml

describe("action inputs", () => {
  it("with nothing given: plan the spec in the workspace, prune, pull missing, no drift failure", () => {
    const r = read({})
    expect(Result.isSuccess(r) && r.success).toEqual({
      spec: ".",
      mode: "plan",
      dockerHost: undefined,
      scope: undefined,
      prune: true,
      pull: "missing",
      failOnDrift: false,
      repo: undefined,
      bus: undefined,
      apps: undefined
    })
  })

  it("reads every input under its action.yml name, trimmed", () => {
    const r = read({
      spec: " deploy/prod ",
      mode: "apply",
      "docker-host": "ssh://deploy@prod-1",
      scope: "prod",
      apps: "web, api\nworker",
      prune: "False",
      pull: "always",
      "fail-on-drift": "TRUE",
      repo: "postgres://moor@db/moor",
      bus: "nats://nats:4222"
    })
    expect(Result.isSuccess(r) && r.success).toEqual({
      spec: "deploy/prod",
      mode: "apply",
      dockerHost: "ssh://deploy@prod-1",
      scope: "prod",
      prune: false,
      pull: "always",
      failOnDrift: true,
      repo: "postgres://moor@db/moor",
      bus: "nats://nats:4222",
      apps: ["web", "api", "worker"]
    })
  })

  it("reports every wrong value at once, naming the input, the value and what is accepted", () => {
    const r = read({ mode: "deploy", prune: "yes", "fail-on-drift": "1", pull: "never" })
    expect(Result.isFailure(r) && r.failure.split("\n")).toEqual([
      'input "mode" must be plan or apply, not "deploy"',
      'input "prune" must be true or false, not "yes"',
      'input "pull" must be missing or always, not "never"',
      'input "fail-on-drift" must be true or false, not "1"'
    ])
  })

  it("apps: commas, spaces, new lines or a YAML block list; duplicates once; empty means every app", () => {
    expect(parseApps("- web\n- api\n- web\n")).toEqual(["web", "api"])
    expect(parseApps("web api,worker")).toEqual(["web", "api", "worker"])
    expect(parseApps(" \n ")).toBeUndefined()
  })
})

describe("action.yml", () => {
  it("runs the bundled entry on node24", () => {
    expect(actionYaml.runs).toEqual({ using: "node24", main: "dist/action.js" })
  })

  it("declares exactly the inputs the code reads, with the same defaults", () => {
    const names: Array<string> = []
    readInputs((name) => {
      names.push(name)
      return ""
    })
    expect(Object.keys(actionYaml.inputs).sort()).toEqual([...names].sort())
    const declared = Object.fromEntries(
      Object.entries(actionYaml.inputs).flatMap(([name, input]) =>
        input.default === undefined ? [] : [[name, input.default]]
      )
    )
    expect(declared).toEqual(inputDefaults)
    for (const [name, input] of Object.entries(actionYaml.inputs)) {
      expect(input.required, name).toBe(false)
      expect(input.description.length, name).toBeGreaterThan(10)
    }
  })

  it("declares the outputs the Action sets", () => {
    expect(Object.keys(actionYaml.outputs).sort()).toEqual(["changed", "plan", "run-id", "summary"])
  })
})
