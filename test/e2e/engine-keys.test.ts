/**
 * A Compose key that needs a newer Docker Engine API, through the command line on both real engines:
 * on engine A (Docker 20.10, API 1.41) `healthcheck.start_interval` is a clear plan-time skip naming
 * the engine's version (and nothing is created), on the current engine (Docker 26, API 1.45) the
 * container is created with it.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  cleanupScope,
  newScope,
  requireFixtures,
  type TestEngine,
  testEngineA,
  testEngineCurrent
} from "../support/docker-e2e.ts"

const scope = newScope()
const dir = mkdtempSync(join(tmpdir(), "moor-engine-keys-"))
const spec = join(dir, "spec")
mkdirSync(join(spec, "probe"), { recursive: true })
writeFileSync(join(spec, "moor.yaml"), `scope: ${scope}\n`)
writeFileSync(
  join(spec, "probe", "compose.yaml"),
  [
    "services:",
    "  web:",
    "    image: moor-fixture/app:1",
    "    healthcheck:",
    "      test: [CMD, /bin/moor-healthcheck]",
    "      interval: 30s",
    "      timeout: 10s",
    "      start_period: 20s",
    "      start_interval: 500ms",
    "  plain:",
    "    image: moor-fixture/app:1",
    ""
  ].join("\n")
)
/** `moor` on one engine, with a repository of its own (the engines' runs go side by side). */
const moor = (engine: TestEngine, ...args: Array<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const repo = `sqlite:${join(dir, `${engine === testEngineA ? "a" : "current"}.db`)}`
    const env = { ...process.env, MOOR_REPO: repo, NO_COLOR: "1", MOOR_BUS: "memory" }
    execFile(
      process.execPath,
      ["runners/cli/main.ts", ...args, "--docker-host", engine.endpoint],
      { env, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resolve({ code, stdout, stderr })
      }
    )
  })

beforeAll(async () => {
  await requireFixtures(testEngineA)
  await requireFixtures(testEngineCurrent)
})
afterAll(async () => {
  await cleanupScope(scope, testEngineA)
  await cleanupScope(scope, testEngineCurrent)
  rmSync(dir, { recursive: true, force: true })
})

describe.concurrent("a key the engine's API cannot express", () => {
  it("engine A (20.10): plan and apply skip the service with the key, naming the engine's version; the rest is created", async () => {
    const version = (await testEngineA.raw.version()).Version
    const message = `healthcheck.start_interval needs Docker Engine API 1.44 (Docker 25) or newer; host local runs Docker ${version} (API 1.41): upgrade the engine, or remove the key`
    const plan = await moor(testEngineA, "plan", spec)
    expect(plan.stderr).toBe("")
    expect(plan.stdout).toContain(`! skip probe/web (${message})`)
    const apply = await moor(testEngineA, "apply", spec)
    expect(apply.stdout).toContain(message)
    const names = (await testEngineA.raw.listContainers({ all: true, filters: { label: [`moor.scope=${scope}`] } }))
      .map((c) => c.Names[0])
      .sort()
    expect(names).toEqual(["/probe-plain-1"])
  })

  it("the current engine (26): the container is created with its start interval", async () => {
    const apply = await moor(testEngineCurrent, "apply", spec)
    expect(apply.stdout).not.toContain("needs Docker Engine API")
    const web = await testEngineCurrent.raw.getContainer("probe-web-1").inspect()
    expect((web.Config.Healthcheck as { StartInterval?: number } | undefined)?.StartInterval).toBe(500_000_000)
  })
})
