/**
 * The gauntlet's bad-input section, GitHub Action: the bundle built from the current sources
 * (dist/action.js), run as the Actions runner runs it, with bad inputs (mode, prune, pull,
 * fail-on-drift, apps, scope, docker-host), a spec path that does not exist, and broken specs
 * from test/fixtures/bad-specs. The step must fail with a clear message (`::error::`), put each
 * spec problem on its file and line (`::error file=...,line=...`), print no stack trace, and change
 * nothing on the engine.
 */
import { randomBytes } from "node:crypto"
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildCheckout, runAction } from "../support/action-support.ts"
import { STACK_LINE } from "../support/bad-input-cli.ts"
import { CORPUS } from "../support/bad-input-corpus.ts"
import { cleanupScopesStartingWith, snapshotScope } from "../support/bad-input-engine.ts"
import { requireFixtures } from "../support/docker-e2e.ts"
import { summary } from "../support/gauntlet.ts"

const scope = `gauntlet-bad-${randomBytes(3).toString("hex")}-action`

interface ActionCase {
  readonly name: string
  readonly inputs: Readonly<Record<string, string>>
  /** The step's failure message must contain these. */
  readonly fails: ReadonlyArray<string>
  /** Annotations expected on files: `path:line:col` relative to the workspace, and a fragment. */
  readonly annotations?: ReadonlyArray<{ readonly at: string; readonly says: string }>
}

const cases: ReadonlyArray<ActionCase> = [
  { name: "mode: deploy", inputs: { mode: "deploy" }, fails: ['input "mode" must be plan or apply, not "deploy"'] },
  { name: "prune: maybe", inputs: { prune: "maybe" }, fails: ['input "prune" must be true or false, not "maybe"'] },
  { name: "pull: sometimes", inputs: { pull: "sometimes" }, fails: ['input "pull" must be missing or always'] },
  {
    name: "fail-on-drift: yes, and mode: Apply (every wrong input at once)",
    inputs: { "fail-on-drift": "yes", mode: "Apply" },
    fails: ['input "mode" must be plan or apply, not "Apply"', 'input "fail-on-drift" must be true or false']
  },
  {
    name: "a spec path that does not exist",
    inputs: { spec: "no/such/spec" },
    fails: ["no/such/spec: no such file or directory"]
  },
  {
    name: "apps: an app the spec does not have",
    inputs: { spec: "specs/yaml-unclosed-quote", apps: "payments" },
    fails: ['input "apps": no app "payments" in the spec']
  },
  {
    name: "scope: not a valid scope",
    inputs: { spec: "specs/yaml-unclosed-quote", scope: "Bad Scope!" },
    fails: ["scope"]
  },
  {
    name: "docker-host: not an engine address",
    inputs: { spec: "specs/yaml-unclosed-quote", "docker-host": "http://docker.example.com:2375" },
    fails: ["http://docker.example.com:2375"]
  },
  {
    name: "a broken moor.yaml, plan",
    inputs: { spec: "specs/moor-bad-scope" },
    fails: ["scope"],
    annotations: [{ at: "specs/moor-bad-scope/moor.yaml:1:8", says: '"Bad Scope!" is not a valid scope' }]
  },
  {
    name: "a broken moor.yaml, apply",
    inputs: { spec: "specs/moor-bad-engine-url", mode: "apply" },
    fails: ["is not an engine address"],
    annotations: [{ at: "specs/moor-bad-engine-url/moor.yaml:3:13", says: "is not an engine address" }]
  },
  {
    name: "a broken app (unclosed quote), plan",
    inputs: { spec: "specs/yaml-unclosed-quote" },
    fails: ["the spec has 1 problem (see the annotations)"],
    annotations: [{ at: "specs/yaml-unclosed-quote/bad/compose.yaml:3:12", says: "is never closed" }]
  },
  {
    name: "a requires cycle, plan",
    inputs: { spec: "specs/requires-cycle" },
    fails: ["the spec has 3 problems (see the annotations)"],
    annotations: [
      { at: "specs/requires-cycle/cycle-a/compose.yaml:6:7", says: "requires cycle" },
      { at: "specs/requires-cycle/cycle-c/compose.yaml:6:7", says: "requires cycle" }
    ]
  }
]

/** The workflow commands the step printed: `::error file=a,line=1,col=2::message`. */
const commands = (stdout: string) =>
  [...stdout.matchAll(/^::(error|warning)(?: ([^:]*))?::(.*)$/gm)].map((m) => {
    const unescape = (s: string) =>
      s
        .replaceAll("%0A", "\n")
        .replaceAll("%0D", "\r")
        .replaceAll("%3A", ":")
        .replaceAll("%2C", ",")
        .replaceAll("%25", "%")
    const props = Object.fromEntries(
      (m[2] ?? "")
        .split(",")
        .filter((p) => p.includes("="))
        .map((p) => [p.slice(0, p.indexOf("=")), unescape(p.slice(p.indexOf("=") + 1))])
    )
    return { kind: m[1] ?? "", props, message: unescape(m[3] ?? "") }
  })

let clear = 0
let crashes = 0
let changes = 0
/** Each case's failure message, printed at the end for people reading the gauntlet's log. */
const said: Array<string> = []

describe("the GitHub Action refuses bad inputs and broken specs", () => {
  let checkout: Awaited<ReturnType<typeof buildCheckout>>
  let workspace: string

  beforeAll(async () => {
    await requireFixtures()
    checkout = await buildCheckout()
    workspace = mkdtempSync(join(tmpdir(), "moor-bad-action-"))
    for (const c of ["yaml-unclosed-quote", "moor-bad-scope", "moor-bad-engine-url", "requires-cycle"])
      cpSync(join(CORPUS, c), join(workspace, "specs", c), { recursive: true })
  }, 300_000)

  afterAll(async () => {
    checkout?.remove()
    if (workspace !== undefined) rmSync(workspace, { recursive: true, force: true })
    await cleanupScopesStartingWith(scope)
    summary(`bad_input_action ${clear}/${cases.length} clear errors, ${crashes} crashes, ${changes} engine changes`)
    console.log(said.join("\n"))
  })

  it.each(cases)("$name", async (c) => {
    const before = await snapshotScope(scope)
    const run = await runAction(checkout, workspace, { scope, repo: "memory", ...c.inputs })
    const after = await snapshotScope(scope)
    const found = commands(run.stdout)
    const failure = found.filter((f) => f.kind === "error" && f.props.file === undefined).map((f) => f.message)
    const crashed = STACK_LINE.test(run.stdout) || STACK_LINE.test(run.stderr) || /internal error/.test(run.stdout)
    said.push(`  ${c.name}: ${failure.join(" | ").replaceAll("\n", " / ")}`)
    if (crashed) crashes++
    if (JSON.stringify(after) !== JSON.stringify(before)) changes++

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1)
    expect(crashed, `${run.stdout}\n${run.stderr}`).toBe(false)
    for (const f of c.fails) expect(failure.join("\n")).toContain(f)
    for (const a of c.annotations ?? []) {
      const at = found.find(
        (f) =>
          f.kind === "error" &&
          `${f.props.file}:${f.props.line}:${f.props.col}` === a.at &&
          f.message.includes(a.says) &&
          f.props.title === "moor: spec error"
      )
      expect(at, `no annotation at ${a.at} saying ${a.says}:\n${run.stdout}`).toBeDefined()
    }
    expect(after).toEqual(before)
    clear++
  })
})
