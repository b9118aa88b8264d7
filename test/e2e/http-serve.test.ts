/**
 * `moor serve` as a real process on a loopback port against the real engine, with a tiny spec of
 * its own (two apps on ports 19450 and 19451): a token-authenticated reconcile converges them, the
 * runs are there to read, an image hook for a tag re-pointed with `docker tag` (a push of a new
 * image behind the same tag) recreates only the service that runs it, and SIGTERM stops it cleanly.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, raw, requireFixtures } from "../support/docker-e2e.ts"

const node = existsSync(resolve("node_modules/.bin/node")) ? resolve("node_modules/.bin/node") : process.execPath
const entry = ["runners/cli/main.ts", "serve"]

const token = randomBytes(4).toString("hex")
const scope = `http-e2e-${token}`
const appA = `h${token}a`
const appB = `h${token}b`
/** A tag of our own, so re-pointing it touches no one else's image. */
const liveTag = `moor-http-${token}/app:2`
const TOKEN = `e2e-${randomBytes(16).toString("hex")}`
const PORT_A = 19450
const PORT_B = 19451

let dir: string
let server: ChildProcess | undefined
let base: string
let output = ""

const isFree = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createServer()
    s.once("error", () => res(false))
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)))
  })
const freeServerPort = async (): Promise<number> => {
  for (let port = 19400; port < 19450; port++) if (await isFree(port)) return port
  throw new Error("no free port in 19400-19449")
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) }
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** Polls the pass until it has finished. */
const finished = async (passId: string, timeoutMs = 90_000) => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const { status, body } = await api(`/v1/runs/${passId}`)
    const pass = body.pass as { state: string } | undefined
    if (status === 200 && pass?.state === "finished") return body
    if (Date.now() > until) throw new Error(`pass ${passId} did not finish: ${JSON.stringify(body)}\n${output}`)
    await sleep(250)
  }
}

const containerOf = async (app: string) => {
  const [c] = await raw.listContainers({
    all: true,
    filters: { label: [`moor.scope=${scope}`, `moor.app=${app}`] }
  })
  return c
}
const imageId = async (ref: string) => (await raw.getImage(ref).inspect()).Id

const compose = (image: string, port: number) =>
  `services:\n  web:\n    image: ${image}\n    ports: ["127.0.0.1:${port}:8080"]\n`

beforeAll(async () => {
  await requireFixtures()
  for (const port of [PORT_A, PORT_B])
    if (!(await isFree(port))) throw new Error(`port ${port} is taken: the test needs it for its apps`)
  // The tag starts on app:1; the "push" re-points it to app:2.
  await raw.getImage("moor-fixture/app:1").tag({ repo: `moor-http-${token}/app`, tag: "2" })
  dir = mkdtempSync(join(tmpdir(), "moor-http-e2e-"))
  const spec = join(dir, "spec")
  mkdirSync(join(spec, appA), { recursive: true })
  mkdirSync(join(spec, appB), { recursive: true })
  writeFileSync(join(spec, "moor.yaml"), `scope: ${scope}\n`)
  writeFileSync(join(spec, appA, "compose.yaml"), compose(liveTag, PORT_A))
  writeFileSync(join(spec, appB, "compose.yaml"), compose("moor-fixture/app:1", PORT_B))

  const port = await freeServerPort()
  base = `http://127.0.0.1:${port}`
  server = spawn(
    node,
    [...entry, spec, "--port", String(port), "--host", "127.0.0.1", "--repo", `sqlite:${join(dir, "state.db")}`],
    {
      env: { ...process.env, MOOR_API_TOKEN: TOKEN, MOOR_BUS: "memory", MOOR_GITHUB_WEBHOOK_SECRET: "" },
      stdio: ["ignore", "pipe", "pipe"]
    }
  )
  server.stdout?.on("data", (d: Buffer) => (output += d.toString()))
  server.stderr?.on("data", (d: Buffer) => (output += d.toString()))
  const until = Date.now() + 30_000
  for (;;) {
    const up = await fetch(`${base}/healthz`).then(
      (r) => r.status === 200,
      () => false
    )
    if (up) break
    if (server.exitCode !== null || Date.now() > until) throw new Error(`moor serve did not start:\n${output}`)
    await sleep(200)
  }
})

afterAll(async () => {
  if (server !== undefined && server.exitCode === null) server.kill("SIGKILL")
  await cleanupScope(scope)
  await raw
    .getImage(liveTag)
    .remove()
    .catch(() => undefined)
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe("moor serve against the real engine", () => {
  it("says at startup what it serves and what not, without the token", () => {
    expect(output).toContain(`moor serve listening on ${base}`)
    expect(output).toContain("serving POST /v1/reconcile")
    expect(output).toContain("not serving POST /v1/hooks/github (MOOR_GITHUB_WEBHOOK_SECRET is not set)")
  })

  let passId = ""
  it("POST /v1/reconcile with the token answers 202 at once and converges both apps", async () => {
    const t0 = Date.now()
    const { status, body } = await api("/v1/reconcile", { method: "POST" })
    expect(status).toBe(202)
    expect(body.state).toBe("running")
    expect(Date.now() - t0).toBeLessThan(2_000)
    passId = String(body.passId)
    expect(body.runs).toEqual([`${passId}-local`])

    const done = await finished(passId)
    expect(done.pass).toMatchObject({ outcome: "succeeded", apps: "all" })
    for (const [port, version] of [
      [PORT_A, "1"],
      [PORT_B, "1"]
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${port}/version`)
      expect((await res.text()).trim()).toBe(version)
    }
  })

  it("GET /v1/runs/:id shows the run and its actions", async () => {
    const { status, body } = await api(`/v1/runs/${passId}-local`)
    expect(status).toBe(200)
    const run = body.run as {
      status: string
      trigger: string
      actions: Array<{ kind: string; app: string; outcome: string }>
    }
    expect(run).toMatchObject({ status: "succeeded", trigger: "webhook", scope })
    const created = run.actions.filter((a) => a.kind === "create").map((a) => `${a.app} ${a.outcome}`)
    expect(created.sort()).toEqual([`${appA} done`, `${appB} done`])
  })

  it("POST /v1/hooks/image recreates only the service that runs the re-pointed tag", async () => {
    const beforeA = await containerOf(appA)
    const beforeB = await containerOf(appB)
    // A new image behind the same tag (what a registry push and pull would leave).
    await raw.getImage("moor-fixture/app:2").tag({ repo: `moor-http-${token}/app`, tag: "2" })

    const { status, body } = await api("/v1/hooks/image", {
      method: "POST",
      body: JSON.stringify({ image: liveTag }),
      headers: { "content-type": "application/json" }
    })
    expect(status).toBe(202)
    expect(body.services).toEqual([{ host: "local", app: appA, service: "web" }])
    const done = await finished(String(body.passId))
    const pass = done.pass as { outcome: string; apps: Array<string>; notes: Array<string> }
    expect(pass.outcome).toBe("succeeded")
    expect(pass.apps).toEqual([appA])
    // No registry here: the pull fails, is reported, and the image on the host is used.
    expect(pass.notes.some((n) => n.startsWith(`pulling ${liveTag} on local failed`))).toBe(true)

    const afterA = await containerOf(appA)
    const afterB = await containerOf(appB)
    expect(afterA?.Id).not.toBe(beforeA?.Id)
    expect(afterA?.ImageID).toBe(await imageId("moor-fixture/app:2"))
    expect(afterB?.Id).toBe(beforeB?.Id)
    expect((await (await fetch(`http://127.0.0.1:${PORT_A}/version`)).text()).trim()).toBe("2")
  })

  it("answers 413 to a declared oversize body without waiting for it", async () => {
    const url = new URL(`${base}/v1/reconcile`)
    const status = await new Promise<number>((res, rej) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-length": String(50 * 1024 * 1024) }
        },
        (r) => {
          r.resume()
          res(r.statusCode ?? 0)
          req.destroy()
        }
      )
      req.on("error", rej)
      req.write("{")
    })
    expect(status).toBe(413)
  })

  it("SIGTERM stops the server cleanly, and the token was never logged", async () => {
    const child = server
    if (child === undefined) throw new Error("no server")
    const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)))
    const t0 = Date.now()
    child.kill("SIGTERM")
    const code = await exited
    expect(Date.now() - t0).toBeLessThan(10_000)
    // Interrupted by a signal: runMain exits 130.
    expect(code).toBe(130)
    expect(output).toContain("moor serve stopped")
    expect(output).not.toContain(TOKEN)
    expect(
      await fetch(`${base}/healthz`).then(
        () => "up",
        () => "down"
      )
    ).toBe("down")
  })
})
