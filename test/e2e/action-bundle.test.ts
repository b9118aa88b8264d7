/**
 * The bundled GitHub Action (dist/action.js, built from the current sources) run as the Actions
 * runner runs it, against the real engine: plan and apply, outputs, the job summary, the exit code,
 * annotations for a broken spec, fail-on-drift. And the bundled CLI (dist/moor.js, bin/moor.js)
 * reading what the Action recorded. Host ports 19500-19599.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, newScope, raw, requireFixtures } from "../support/docker-e2e.ts"
import { buildCheckout, type Checkout, runAction, runNode } from "../support/action-support.ts"

const scope = newScope()
/** App names are global on the engine (`<app>-<service>-1`): a token of this file's own. */
const t = `ab${randomBytes(3).toString("hex")}`
const WEB_PORT = 19501
let checkout: Checkout
let workspace: string
let spec: string

const compose = (image: string, port: number) =>
  [
    "services:",
    "  web:",
    `    image: ${image}`,
    "    ports:",
    `      - "127.0.0.1:${port}:8080"`,
    "    restart: unless-stopped",
    "    healthcheck:",
    "      interval: 1s",
    ""
  ].join("\n")

const writeApp = (name: string, text: string) => {
  mkdirSync(join(spec, name), { recursive: true })
  writeFileSync(join(spec, name, "compose.yaml"), text)
}
const removeApp = (name: string) => rmSync(join(spec, name), { recursive: true, force: true })

const inputs = (extra: Record<string, string> = {}) => ({
  spec: "deploy",
  scope,
  repo: `sqlite:${join(workspace, "state.db")}`,
  ...extra
})

const containersOfScope = async () =>
  (await raw.listContainers({ all: true, filters: { label: [`moor.scope=${scope}`] } })).map((c) => ({
    name: (c.Names[0] ?? "").replace(/^\//, ""),
    state: c.State,
    image: c.Image
  }))

const fetchText = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`)).text()

beforeAll(async () => {
  await requireFixtures()
  checkout = await buildCheckout()
  workspace = mkdtempSync(join(tmpdir(), "moor-action-ws-"))
  spec = join(workspace, "deploy")
  mkdirSync(spec)
  writeApp(`${t}web`, compose("moor-fixture/app:1", WEB_PORT))
})

afterAll(async () => {
  await cleanupScope(scope)
  checkout?.remove()
  if (workspace !== undefined) rmSync(workspace, { recursive: true, force: true })
})

describe("the bundled Action, run as the Actions runner runs it", () => {
  it("plan: exit 0, changed=true, the plan as JSON, no run id, a summary table, nothing changed", async () => {
    const run = await runAction(checkout, workspace, inputs({ mode: "plan" }))
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.outputs.changed).toBe("true")
    expect(run.outputs["run-id"]).toBe("")
    const plan = JSON.parse(run.outputs.plan ?? "") as { scope: string; actions: Array<{ _tag: string; id: string }> }
    expect(plan.scope).toBe(scope)
    expect(plan.actions.map((a) => `${a._tag} ${a.id}`)).toEqual([
      `ensure-network local:network:${t}web_default`,
      `create local/${t}web/web:create`,
      `start local/${t}web/web:start`
    ])
    expect(run.summary).toContain(`### moor plan: ${scope}`)
    expect(run.summary).toContain("| Host | App | Action | Target | Reason |")
    expect(run.summary).toContain(`| local | ${t}web | + create | ${t}web-web-1 (moor-fixture/app:1) | missing |`)
    expect(run.summary).toContain(`| local | ${t}web | pending | 3 changes |`)
    expect(run.stdout).toContain(`+ create ${t}web-web-1 (moor-fixture/app:1) (missing)`)
    expect(await containersOfScope()).toEqual([])
  })

  it("apply: exit 0, changed=true, a run id the bundled CLI finds, the app serving", async () => {
    const run = await runAction(checkout, workspace, inputs({ mode: "apply" }))
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.outputs.changed).toBe("true")
    const runId = run.outputs["run-id"] ?? ""
    expect(runId).toMatch(/^r\d{8}-\d{6}-[0-9a-z]{4}$/)
    expect(run.summary).toContain("| Host | App | Action | Target | Reason | Outcome |")
    expect(run.summary).toContain(
      `| local | ${t}web | + create | ${t}web-web-1 (moor-fixture/app:1) | missing | done |`
    )
    expect(run.summary).toContain(`| local | ${t}web | running | no changes |`)
    expect(await containersOfScope()).toEqual([
      { name: `${t}web-web-1`, state: "running", image: "moor-fixture/app:1" }
    ])
    expect(await fetchText(WEB_PORT)).toContain("moor-fixture app version 1")

    // The run was recorded with trigger `action`; the CLI, as npm installs it (bin/moor.js), shows it.
    const shown = await runNode(
      [checkout.launcher, "runs", "show", runId, "--spec", "deploy", "--repo", inputs().repo],
      {
        cwd: workspace
      }
    )
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toMatch(new RegExp(`^${runId}-local\\s+succeeded\\s+action\\b`, "m"))
  })

  it("plan again: changed=false, and fail-on-drift passes when there is no drift", async () => {
    const run = await runAction(checkout, workspace, inputs({ mode: "plan", "fail-on-drift": "true" }))
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.outputs.changed).toBe("false")
    expect(run.summary).toContain("No changes.")
  })

  it("drift: plan reports it; with fail-on-drift the step fails with an error, outputs still set", async () => {
    writeApp(`${t}web`, compose("moor-fixture/app:2", WEB_PORT))
    const lenient = await runAction(checkout, workspace, inputs({ mode: "plan" }))
    expect([lenient.code, lenient.outputs.changed]).toEqual([0, "true"])
    expect(lenient.summary).toContain(
      `| local | ${t}web | ~ recreate | ${t}web-web-1 | image moor-fixture/app:1 -&gt; :2 |`
    )

    const strict = await runAction(checkout, workspace, inputs({ mode: "plan", "fail-on-drift": "true" }))
    expect(strict.code).toBe(1)
    expect(strict.outputs.changed).toBe("true")
    expect(strict.stdout).toContain(
      "::error::drift: the hosts differ from the spec (1 change planned); apply the spec, or set fail-on-drift: false"
    )
    // Plan changed nothing.
    expect(await fetchText(WEB_PORT)).toContain("moor-fixture app version 1")
    writeApp(`${t}web`, compose("moor-fixture/app:1", WEB_PORT))
  })

  it("a broken spec: an error annotation on the file, line and column of each problem; exit 1", async () => {
    writeApp(
      `${t}bad`,
      "services:\n  web:\n    image: moor-fixture/app:1\n    provider: { type: model }\n    ports: [abc]\n"
    )
    try {
      const run = await runAction(checkout, workspace, inputs({ mode: "plan" }))
      expect(run.code).toBe(1)
      const annotations = run.stdout.split("\n").filter((l) => l.startsWith("::error "))
      expect(annotations).toEqual([
        `::error title=moor%3A spec error,file=deploy/${t}bad/compose.yaml,line=4,col=5::services.web.provider: moor does not support "provider": run by a Compose plugin, not by the engine: run it as a service with an image (see docs/compose-support.md)`,
        `::error title=moor%3A spec error,file=deploy/${t}bad/compose.yaml,line=5,col=13::services.web.ports[0]: "abc" is not a port or a port range`
      ])
      expect(run.stdout).toContain("::error::the spec has 2 problems (see the annotations)")
      // The rest of the spec still planned.
      expect(run.outputs.changed).toBe("false")
    } finally {
      removeApp(`${t}bad`)
    }
  })

  it("an app that cannot be applied fails the step, and the summary says which action failed", async () => {
    // An image from a registry on a port of this file's range where nothing listens: the pull fails at once.
    writeApp(`${t}nope`, "services:\n  web:\n    image: 127.0.0.1:19599/moor-missing:1\n")
    try {
      const run = await runAction(checkout, workspace, inputs({ mode: "apply" }))
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(/^::error::host local: (failed|partial): /m)
      expect(run.summary).toMatch(new RegExp(`\\| local \\| ${t}nope \\| \\+ pull-image \\| .* \\| failed: `))
      // The other app is untouched and still serving.
      expect(await fetchText(WEB_PORT)).toContain("moor-fixture app version 1")
    } finally {
      removeApp(`${t}nope`)
    }
    // With the app gone from the spec, apply prunes what its failed attempt left (its network).
    const pruned = await runAction(checkout, workspace, inputs({ mode: "apply" }))
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0)
    expect(pruned.summary).toContain(`| local | ${t}nope | - remove-network | ${t}nope_default |`)
  })

  it("wrong inputs: one error naming each input, exit 1, nothing done", async () => {
    const run = await runAction(checkout, workspace, inputs({ mode: "deploy", "fail-on-drift": "maybe" }))
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      '::error::input "mode" must be plan or apply, not "deploy"%0Ainput "fail-on-drift" must be true or false, not "maybe"'
    )
    expect(run.outputs).toEqual({})
  })
})

describe("the bundled CLI", () => {
  it("plans the spec through bin/moor.js and dist/moor.js alike, with no node_modules beside them", async () => {
    for (const entry of [checkout.launcher, checkout.cli]) {
      const run = await runNode([entry, "plan", "deploy", "--scope", scope, "--repo", "memory"], { cwd: workspace })
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toContain(`local/${t}web`)
      expect(run.stdout).toContain("No changes.")
    }
  })
})
