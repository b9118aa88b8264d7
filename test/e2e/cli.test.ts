/**
 * The command line on the example spec, against the real engine, as a person runs it: plan, apply,
 * status, logs, runs, down; exit codes; user errors as one clear line; no colour off a terminal.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Result } from "effect"
import { decodePlan } from "../../core/decode.ts"
import { cleanupScope, raw } from "../support/docker-e2e.ts"

const SCOPE = "shop"
const state = mkdtempSync(join(tmpdir(), "moor-cli-"))
const env = { ...process.env, MOOR_REPO: `sqlite:${join(state, "state.db")}`, NO_COLOR: "1", MOOR_BUS: "memory" }

const moor = (...args: Array<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, ["runners/cli/main.ts", ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resolve({ code, stdout, stderr })
    })
  })

const containers = async () =>
  (await raw.listContainers({ all: true, filters: { label: [`moor.scope=${SCOPE}`] } })).map((c) => ({
    name: c.Names[0]!.slice(1),
    state: c.State,
    status: c.Status
  }))
const fetchText = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`)).text()

beforeAll(() => cleanupScope(SCOPE))
afterAll(() => cleanupScope(SCOPE))

describe("moor CLI on examples/shop", () => {
  it("plan on an empty engine shows every action with its reason and exits 2 with --detailed-exitcode", async () => {
    const r = await moor("plan", "examples/shop", "--detailed-exitcode")
    expect(r.code).toBe(2)
    expect(r.stdout).toContain("  + create db-store-1 (moor-fixture/app:1) (missing)")
    expect(r.stdout).toContain("  > run hook db:hooks/add-user.sh in db-store-1 for api (on_start hook for api)")
    expect(r.stdout).toMatch(/Plan: 4 to create, 0 to replace, 0 to remove, \d+ other steps\./)
    expect(r.stdout).not.toContain("\u001b[")
    expect(await containers()).toEqual([])
  })

  it("apply converges the three apps, runs the hook and the one-shot job, and exits 0", async () => {
    const r = await moor("apply", "examples/shop")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/ok {3}local: > run hook db:hooks\/add-user\.sh/)
    expect(r.stdout).toMatch(/local\/api\s+running/)
    expect(r.stdout).toMatch(/local\/web\s+running/)
    expect(r.stdout).toMatch(/Apply complete: 17 done, 0 failed, 0 skipped/)
    expect(await fetchText(18081)).toContain("message: shop web")
    expect(
      await fetchText(18091).then(() => fetch("http://127.0.0.1:18091/users/api").then((x) => x.text()))
    ).toContain("1.0.0")
    const names = (await containers()).map((c) => `${c.name} ${c.state}`).sort()
    expect(names).toEqual([
      "api-migrate-1 exited",
      "api-server-1 running",
      "db-store-1 running",
      "web-frontend-1 running"
    ])
  })

  it("a second plan has nothing to do (exit 0), and its JSON round-trips through the Plan schema", async () => {
    const r = await moor("plan", "examples/shop", "--detailed-exitcode")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/No changes\.\n$/)
    const json = await moor("plan", "examples/shop", "--json")
    expect(Result.isSuccess(decodePlan(JSON.parse(json.stdout)))).toBe(true)
  })

  it("status shows each app and service, and the repo's view beside the engine's", async () => {
    const r = await moor("status", "examples/shop", "--json")
    const status = JSON.parse(r.stdout) as {
      apps: Array<{ app: string; state: string; repo: { state: string } | null }>
    }
    expect(status.apps.map((a) => [a.app, a.state, a.repo?.state])).toEqual([
      ["api", "running", "running"],
      ["db", "running", "running"],
      ["web", "running", "running"]
    ])
    const text = await moor("status", "examples/shop")
    expect(text.stdout).toContain("server: running healthy (api-server-1)")
  })

  it("a killed container is started again by the next apply, and the run is recorded with its actions", async () => {
    await raw.getContainer("api-server-1").kill()
    const r = await moor("apply", "examples/shop")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("> start api-server-1 (exited (137))")
    const runs = await moor("runs")
    expect(runs.stdout.split("\n")[0]).toMatch(/^r\d{8}-\d{6}-\w{4}-local {2}succeeded {2}cli/)
    const id = runs.stdout.split(" ")[0]!
    const show = await moor("runs", "show", id)
    expect(show.stdout).toContain("ok   start api/server (exited (137))")
  })

  it("logs prints a service's lines with its name", async () => {
    const r = await moor("logs", "api", "migrate", "--spec", "examples/shop")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("migrate | migration done")
  })

  it("down removes an app's containers and network but keeps its volume; --volumes removes it", async () => {
    const web = await moor("down", "web", "examples/shop")
    expect(web.code).toBe(0)
    expect((await containers()).map((c) => c.name)).not.toContain("web-frontend-1")
    const db = await moor("down", "db", "examples/shop")
    expect(db.code).toBe(0)
    expect(db.stdout).toContain("volumes kept")
    expect((await raw.listVolumes()).Volumes?.map((v) => v.Name)).toContain("db_data")
    const gone = await moor("down", "db", "examples/shop", "--volumes")
    expect(gone.code).toBe(0)
    expect((await raw.listVolumes()).Volumes?.map((v) => v.Name)).not.toContain("db_data")
  })
})

describe("moor CLI errors", () => {
  it("an engine that does not answer: a clear error, exit 1, nothing changed", async () => {
    const r = await moor("apply", "examples/shop", "--docker-host", "unix:///nonexistent.sock")
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("error: host local is unknown, nothing on it was changed:")
    expect(r.stderr).toContain("unix:///nonexistent.sock")
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it("a spec that does not exist: one line, exit 1", async () => {
    const r = await moor("plan", "/nonexistent/spec")
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain("/nonexistent/spec")
  })

  it("an unsupported key: file, line and column, the other apps still planned, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "moor-bad-"))
    mkdirSync(join(dir, "bad"))
    mkdirSync(join(dir, "good"))
    writeFileSync(
      join(dir, "bad", "compose.yaml"),
      "services:\n  web:\n    image: moor-fixture/app:1\n    provider: { type: model }\n"
    )
    writeFileSync(join(dir, "good", "compose.yaml"), "services:\n  web:\n    image: moor-fixture/app:1\n")
    const r = await moor("plan", dir, "--scope", "cli-bad-spec")
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      `${join(dir, "bad", "compose.yaml")}:4:5: services.web.provider: moor does not support "provider"`
    )
    expect(r.stdout).toContain("+ create good-web-1 (moor-fixture/app:1) (missing)")
    expect(r.stdout).toContain("! skip bad (")
  })

  it.each(["plan", "apply", "status", "down", "logs", "runs"])(
    "%s --help explains the command and exits 0",
    async (command) => {
      const r = await moor(command, "--help")
      expect(r.code).toBe(0)
      expect(r.stdout).toContain("USAGE")
    }
  )
})
