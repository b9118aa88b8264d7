/**
 * `moor watch` as a real process against the real engine, on a one-container spec: a container
 * killed with `docker kill` runs again within about 2 s (engine event, debounce, pass), and SIGTERM
 * during a pass lets that pass finish (the replacement it was making is complete) before the
 * process exits 0.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, raw, requireFixtures } from "../support/docker-e2e.ts"

const token = randomBytes(3).toString("hex")
const scope = `wte-${token}`
const app = `wte${token}`
const container = `${app}-web-1`
const PORT = 19610
const dir = mkdtempSync(join(tmpdir(), "moor-watch-e2e-"))
const stateDb = join(mkdtempSync(join(tmpdir(), "moor-watch-e2e-repo-")), "state.db")
const node = resolve("node_modules/.bin/node")
const entry = resolve("runners/cli/main.ts")

const writeCompose = (image: string) =>
  writeFileSync(
    join(dir, app, "compose.yaml"),
    [
      "services:",
      "  web:",
      `    image: ${image}`,
      "    ports:",
      `      - "127.0.0.1:${PORT}:8080"`,
      "    restart: unless-stopped",
      ""
    ].join("\n")
  )

let child: ChildProcess | undefined
let output = ""

/** Polls the engine every 20 ms until `check` holds; fails after `timeoutMs`. */
const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}\n--- moor watch output:\n${output}`)
}

const inspect = () =>
  raw
    .getContainer(container)
    .inspect()
    .catch(() => undefined)
const isRunning = async (image?: string) => {
  const info = await inspect()
  return info?.State.Running === true && (image === undefined || info.Config.Image === image)
}
const isHealthy = async () => (await inspect())?.State.Health?.Status === "healthy"

beforeAll(async () => {
  await requireFixtures()
  mkdirSync(join(dir, app), { recursive: true })
  writeFileSync(join(dir, "moor.yaml"), `scope: ${scope}\n`)
  writeCompose("moor-fixture/app:1")
  child = spawn(node, [entry, "watch", dir, "--interval", "1m", "--repo", `sqlite:${stateDb}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, MOOR_BUS: "memory", MOOR_DEBUG: "1" }
  })
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()))
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()))
  await waitFor("the first pass has started the container and it is healthy", isHealthy)
})

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) child.kill("SIGKILL")
  await cleanupScope(scope)
  rmSync(dir, { recursive: true, force: true })
  rmSync(dirname(stateDb), { recursive: true, force: true })
})

describe("moor watch (real process, real engine)", () => {
  it("a killed container runs again within about 2 s", async () => {
    const t0 = performance.now()
    await raw.getContainer(container).kill()
    await waitFor("it runs again", () => isRunning(), 10_000)
    const healMs = performance.now() - t0
    // About a second on a quiet machine. The engine is shared with other tests: when the machine is
    // overloaded, every step takes longer, and the bound only proves the event (not the 1 min
    // interval) brought the container back.
    const overloaded = loadavg()[0]! / availableParallelism() > 4
    const limit = overloaded ? 15_000 : 2500
    console.log(`heal: running again ${Math.round(healMs)} ms after docker kill (limit ${limit} ms)`)
    expect(healMs).toBeLessThan(limit)
    await waitFor("the pass is reported", async () => /pass \S+ \(event\): succeeded, 1 change/.test(output), 5000)
  })

  it("SIGTERM during a pass: the pass finishes, then the process exits 0", async () => {
    await waitFor("healthy again", isHealthy)
    const seen = output.length
    // The spec changes and the container dies: the pass this starts replaces it (waiting for health).
    writeCompose("moor-fixture/app:2")
    await raw.getContainer(container).kill()
    await waitFor("the pass has a plan", async () => /round 1: \d+ action/.test(output.slice(seen)), 10_000)
    const exited = new Promise<number | null>((r) => child?.once("exit", (code) => r(code)))
    child?.kill("SIGTERM")
    const code = await exited
    const after = output.slice(seen)
    expect(code, output).toBe(0)
    const stopping = after.indexOf("SIGTERM: stopping after the pass in flight")
    const finished = after.search(/pass \S+ \(event\): succeeded/)
    expect(stopping, output).toBeGreaterThanOrEqual(0)
    expect(finished, "the pass in flight ended after the signal").toBeGreaterThan(stopping)
    expect(after).toContain("stopped")
    // The replacement was not cut in half: one container, the new image, running under its name.
    expect(await isRunning("moor-fixture/app:2")).toBe(true)
    const all = await raw.listContainers({ all: true, filters: { label: [`moor.scope=${scope}`] } })
    expect(all.map((c) => c.Names[0])).toEqual([`/${container}`])
  })

  it("a spec that cannot be loaded at start, or a bad --interval: exit 1 with what is wrong", () => {
    const missing = spawnSync(node, [entry, "watch", join(dir, "no-such-spec")], { encoding: "utf8" })
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain("no-such-spec: no such file or directory")
    const bad = spawnSync(node, [entry, "watch", dir, "--interval", "30"], { encoding: "utf8" })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('"30" is not a duration: write a number with a unit')
  })
})
