/**
 * Secrets stay secret, end to end on the real engine: canary values are planted in a spec's
 * `environment` and in an env file (and moor's own API token, which the spec tries to read), then
 * moor plans and applies them (text and JSON), serves the HTTP dry run and a pass, runs as the
 * bundled GitHub Action, and fails a pass (a hook that prints its environment and would-be workflow
 * commands, an image that cannot be pulled). No canary may be in any of their outputs: stdout and
 * stderr of every process, the HTTP answers, the Action's GITHUB_OUTPUT and job summary, the
 * SQLite records, the events posted to a webhook. The containers do hold the values (they are
 * planted for real), and the hook did print them (its output shows them redacted).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildCheckout, type Checkout, runAction } from "../support/action-support.ts"
import { cleanupScope, freePort, raw, requireFixtures } from "../support/docker-e2e.ts"
import { commandsOf } from "../support/workflow-commands.ts"

const node = existsSync(resolve("node_modules/.bin/node")) ? resolve("node_modules/.bin/node") : process.execPath
const t = randomBytes(3).toString("hex")
const scope = `canary-${t}`
const DB = `c${t}db`
const API = `c${t}api`
const BAD = `c${t}bad`
/** In the spec's environment, in its env file, and moor's own token (which the spec asks for). */
const CANARY = `canary-env-${randomBytes(12).toString("hex")}`
const CANARY_FILE = `canary-file-${randomBytes(12).toString("hex")}`
const TOKEN = `canary-token-${randomBytes(16).toString("hex")}`
/** moor's own secret too: the events' HMAC key. */
const HMAC = `canary-hmac-${randomBytes(16).toString("hex")}`
const CANARIES = [CANARY, CANARY_FILE, TOKEN, HMAC]

let dir: string
let spec: string
let repoFile: string
let sink: Server
let busUrl: string
const events: Array<string> = []
/** Every output checked, by name. */
const outputs = new Map<string, string>()
const keep = (name: string, text: string) => outputs.set(name, (outputs.get(name) ?? "") + text)

const env = () => ({
  ...process.env,
  MOOR_API_TOKEN: TOKEN,
  MOOR_REPO: `sqlite:${repoFile}`,
  MOOR_BUS: busUrl,
  MOOR_BUS_WEBHOOK_SECRET: HMAC,
  MOOR_GITHUB_WEBHOOK_SECRET: "",
  NO_COLOR: "1"
})

const moor = (...args: Array<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((res) => {
    execFile(node, ["runners/cli/main.ts", ...args], { env: env(), timeout: 170_000 }, (error, stdout, stderr) => {
      res({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    })
  })
const run = async (name: string, ...args: Array<string>) => {
  const r = await moor(...args)
  keep(`moor ${name}: stdout`, r.stdout)
  keep(`moor ${name}: stderr`, r.stderr)
  return r
}

const leak = [
  "#!/bin/sh",
  "# A hook that prints its environment (the provider's variables) and lines the Actions runner",
  "# would act on, then fails.",
  "env",
  'echo "::error::the hook says so"',
  'echo "::add-mask::nothing"',
  'echo "##[set-output name=changed]false"',
  "exit 1",
  ""
].join("\n")

beforeAll(async () => {
  await requireFixtures()
  dir = mkdtempSync(join(tmpdir(), "moor-canary-"))
  spec = join(dir, "spec")
  repoFile = join(dir, "state", "state.db")
  mkdirSync(join(spec, DB, "hooks"), { recursive: true })
  mkdirSync(join(spec, API))
  mkdirSync(join(spec, BAD))
  writeFileSync(join(spec, "moor.yaml"), `scope: ${scope}\n`)
  writeFileSync(
    join(spec, DB, "compose.yaml"),
    [
      "services:",
      "  store:",
      "    image: moor-fixture/app:1",
      "    environment:",
      `      DB_PASSWORD: ${CANARY}`,
      "      API_TOKEN: ${MOOR_API_TOKEN:-held-back}",
      "    env_file: secrets.env",
      ""
    ].join("\n")
  )
  writeFileSync(join(spec, DB, "secrets.env"), `FILE_SECRET=${CANARY_FILE}\n`)
  writeFileSync(join(spec, DB, "hooks", "leak.sh"), leak)
  writeFileSync(
    join(spec, API, "compose.yaml"),
    [
      "services:",
      "  server:",
      "    image: moor-fixture/app:1",
      "x-moor:",
      "  requires:",
      `    - app: ${DB}`,
      "      on_start: hooks/leak.sh",
      ""
    ].join("\n")
  )
  writeFileSync(
    join(spec, BAD, "compose.yaml"),
    `services:\n  web:\n    image: 127.0.0.1:9/moor-canary-${t}/missing:1\n    environment:\n      KEY: ${CANARY}-bad\n`
  )
  sink = createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => (body += c.toString()))
    req.on("end", () => {
      events.push(body)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r))
  busUrl = `webhook+http://127.0.0.1:${(sink.address() as AddressInfo).port}/events`
})

afterAll(async () => {
  await cleanupScope(scope)
  await new Promise<void>((r) => (sink === undefined ? r() : sink.close(() => r())))
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe("canary secrets in the spec's environment and env file", () => {
  it("the CLI: plan and apply, as text and JSON, a failing pass, the runs; --show-values off a terminal", async () => {
    const plan = await run("plan", "plan", spec)
    expect(plan.code, plan.stderr).toBe(0)
    expect(plan.stdout).toContain(`+ create ${DB}-store-1 (moor-fixture/app:1) (missing)`)
    const json = await run("plan --json", "plan", spec, "--json")
    expect(json.stdout).toContain('"DB_PASSWORD"')
    expect(json.stdout).toContain('"digest:')
    const shown = await run("plan --show-values", "plan", spec, "--json", "--show-values")
    expect(shown.code).toBe(1)
    expect(shown.stderr).toContain("--show-values prints environment values in clear, so only to a terminal")

    const apply = await run("apply", "apply", spec)
    expect(apply.code).toBe(1)
    expect(apply.stdout).toMatch(/FAIL local: > run hook .*leak\.sh/)
    expect(apply.stdout).toContain("DB_PASSWORD=[redacted DB_PASSWORD]")
    expect(apply.stdout).toContain("FILE_SECRET=[redacted FILE_SECRET]")
    expect(apply.stdout).toMatch(/FAIL local: \+ pull 127\.0\.0\.1:9\//)
    const applyJson = await run("apply --json", "apply", spec, "--json")
    expect(applyJson.code).toBe(1)
    expect(applyJson.stdout).toContain("[redacted DB_PASSWORD]")
    const id = (JSON.parse(applyJson.stdout) as { id: string }).id
    await run("runs", "runs", "--spec", spec)
    const shownRun = await run("runs show", "runs", "show", id, "--spec", spec, "--json")
    expect(shownRun.stdout).toContain("[redacted DB_PASSWORD]")

    // The values are in the container for real; moor's own token is not.
    const [store] = await raw.listContainers({
      all: true,
      filters: { label: [`moor.scope=${scope}`, `moor.app=${DB}`] }
    })
    const inspected = await raw.getContainer(store?.Id ?? "").inspect()
    expect(inspected.Config.Env).toEqual(
      expect.arrayContaining([`DB_PASSWORD=${CANARY}`, `FILE_SECRET=${CANARY_FILE}`, "API_TOKEN=held-back"])
    )
    expect(JSON.stringify(inspected.Config.Env)).not.toContain(TOKEN)
  })

  it("the HTTP runner: the dry run, a failing pass, its runs, health, readiness, metrics, its log", async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const server: ChildProcess = spawn(node, ["runners/cli/main.ts", "serve", spec, "--port", String(port)], {
      env: env(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    server.stdout?.on("data", (d: Buffer) => keep("moor serve: log", d.toString()))
    server.stderr?.on("data", (d: Buffer) => keep("moor serve: log", d.toString()))
    try {
      const until = Date.now() + 30_000
      while (
        !(await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false
        ))
      ) {
        if (server.exitCode !== null || Date.now() > until)
          throw new Error(`moor serve did not start:\n${outputs.get("moor serve: log")}`)
        await new Promise((r) => setTimeout(r, 200))
      }
      const call = async (name: string, path: string, init: RequestInit = {}) => {
        const res = await fetch(`${base}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }
        })
        const text = await res.text()
        keep(`http ${name}`, text)
        return { status: res.status, body: JSON.parse(text) as Record<string, unknown> }
      }
      const dry = await call("dry run", "/v1/reconcile", { method: "POST", body: JSON.stringify({ dryRun: true }) })
      expect(dry.status).toBe(200)
      // The app whose image cannot be pulled is never created: its container, values and all, is in every plan.
      expect(JSON.stringify(dry.body.plan)).toContain('["KEY","digest:')
      const accepted = await call("reconcile", "/v1/reconcile", { method: "POST" })
      expect(accepted.status).toBe(202)
      const passId = String(accepted.body.passId)
      for (;;) {
        const status = await call("runs/:id", `/v1/runs/${passId}`)
        if ((status.body.pass as { state?: string } | undefined)?.state === "finished") {
          expect(JSON.stringify(status.body)).toContain("[redacted DB_PASSWORD]")
          break
        }
        if (Date.now() > until + 150_000) throw new Error("the pass did not finish")
        await new Promise((r) => setTimeout(r, 300))
      }
      for (const path of ["/healthz", "/readyz", "/metrics"]) {
        const res = await fetch(`${base}${path}`)
        keep(`http ${path}`, await res.text())
      }
    } finally {
      server.kill("SIGTERM")
      await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once("exit", r)))
    }
  })

  it("the bundled Action: plan and apply; outputs, job summary, stdout; no hook line becomes a command", async () => {
    const checkout: Checkout = await buildCheckout()
    try {
      for (const mode of ["plan", "apply"]) {
        const r = await runAction(
          checkout,
          dir,
          { spec: "spec", scope, repo: `sqlite:${repoFile}`, mode, bus: busUrl },
          { MOOR_API_TOKEN: TOKEN, MOOR_BUS_WEBHOOK_SECRET: HMAC }
        )
        keep(`action ${mode}: stdout`, r.stdout)
        keep(`action ${mode}: stderr`, r.stderr)
        keep(`action ${mode}: GITHUB_OUTPUT`, JSON.stringify(r.outputs))
        keep(`action ${mode}: GITHUB_STEP_SUMMARY`, r.summary)
        expect(r.outputs.plan).toContain('["KEY","digest:')
        if (mode === "apply") {
          expect(r.code).not.toBe(0)
          expect(r.stdout).toContain("::error::the hook says so")
          expect(r.stdout).toContain("[redacted DB_PASSWORD]")
          const acted = commandsOf(r.stdout)
          expect(acted.filter((c) => c !== "stop-commands" && c !== "resume" && c !== "error")).toEqual([])
          // The one error acted on is the Action's own failure (setFailed), not the hook's line.
          expect(acted.filter((c) => c === "error")).toHaveLength(1)
          expect(r.stdout).toMatch(/^::error::host local: (failed|partial)/m)
        }
      }
    } finally {
      checkout.remove()
    }
  })

  it("no canary in any output, record or event", () => {
    for (const suffix of ["", "-wal"]) {
      const file = `${repoFile}${suffix}`
      if (existsSync(file)) keep(`sqlite ${suffix === "" ? "state.db" : "state.db-wal"}`, readFileSync(file, "latin1"))
    }
    expect(outputs.has("sqlite state.db")).toBe(true)
    keep("events (webhook)", events.join("\n"))
    expect(events.length).toBeGreaterThan(0)
    expect(events.join("\n")).toContain("[redacted DB_PASSWORD]")

    const holding = [...outputs].flatMap(([name, text]) =>
      CANARIES.filter((c) => text.includes(c)).map((c) => `${name} holds ${c.slice(0, 13)}...`)
    )
    console.log(
      `canary: ${holding.length} of ${outputs.size} outputs hold a canary (${[...outputs.keys()].join(", ")})`
    )
    expect(holding).toEqual([])
    expect(outputs.size).toBeGreaterThanOrEqual(25)
  })
})
