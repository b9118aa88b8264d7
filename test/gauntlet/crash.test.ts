/**
 * Section 1, crashes mid-apply: `moor apply` of the example killed with SIGKILL after its k-th action,
 * for every k of a cold deploy, and in the middle of a replacement. After each crash, one more pass
 * converges: no duplicate containers, no leftovers of an interrupted replacement, no stale lease,
 * the crashed run marked abandoned, and the data in the named volume still there.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, raw } from "../support/docker-e2e.ts"
import {
  applyKilled,
  engineView,
  execIn,
  type Foreign,
  foreignProblems,
  moor,
  plantForeign,
  removeContainersKeepVolumes,
  removeForeign,
  runsOf,
  summary
} from "../support/gauntlet.ts"
import { cliEnv } from "../support/fleet-cli.ts"

const SCOPE = "shop"
const state = mkdtempSync(join(tmpdir(), "moor-crash-"))
const env = cliEnv(`sqlite:${join(state, "state.db")}`)
const MARKER = `crash-test-${Date.now()}`
const expectedNames = ["api-migrate-1", "api-server-1", "db-store-1", "web-frontend-1"]

/** The engine and the repo after a crash and one more pass: converged, nothing doubled, nothing lost. */
const checkConverged = async (label: string): Promise<Array<string>> => {
  const problems: Array<string> = []
  const again = await moor(env, "apply", "examples/shop", "--quiet")
  applies++
  if (again.code !== 0)
    problems.push(`${label}: the pass after the crash exited ${again.code}: ${again.stderr}${again.stdout.slice(-800)}`)
  const plan = await moor(env, "plan", "examples/shop", "--detailed-exitcode")
  if (plan.code !== 0) problems.push(`${label}: not converged, plan exits ${plan.code}:\n${plan.stdout}`)
  const view = await engineView(SCOPE)
  const names = view.containers.map((c) => c.name)
  if (JSON.stringify(names) !== JSON.stringify(expectedNames)) problems.push(`${label}: containers ${names.join(", ")}`)
  const marker = await execIn("db-store-1", ["cat", "/data/marker"]).catch((e: unknown) => String(e))
  markerChecks++
  if (marker.trim() === MARKER) markerKept++
  else problems.push(`${label}: the volume's data is gone (${marker.trim()})`)
  const runs = JSON.parse((await moor(env, "runs", "--json", "--limit", "5")).stdout) as Array<{
    status: string
    id: string
  }>
  const stuck = runs.filter((r) => r.status === "running" || r.status === "pending")
  if (stuck.length > 0) problems.push(`${label}: runs left running: ${stuck.map((r) => r.id).join(", ")}`)
  return problems
}

let actionsInColdDeploy = 0
/** Every `moor apply` run here, killed or not: the repo must keep a run of each (section 6). */
let applies = 0
let markerChecks = 0
let markerKept = 0
let foreign: Foreign | undefined
beforeAll(async () => {
  await cleanupScope(SCOPE)
  foreign = await plantForeign(raw, "web-frontend-1-foreign")
  const first = await moor(env, "apply", "examples/shop", "--quiet")
  applies++
  expect(first.code).toBe(0)
  await execIn("db-store-1", ["sh", "-c", `echo ${MARKER} > /data/marker`])
  await removeContainersKeepVolumes(SCOPE)
  const plan = JSON.parse((await moor(env, "plan", "examples/shop", "--json")).stdout) as { actions: Array<unknown> }
  actionsInColdDeploy = plan.actions.length
}, 600_000)
afterAll(async () => {
  if (foreign !== undefined) await removeForeign(foreign)
  await cleanupScope(SCOPE)
}, 120_000)

describe("crashes mid-apply", () => {
  it("a cold deploy killed after each of its actions converges on the next pass", async () => {
    expect(actionsInColdDeploy).toBeGreaterThan(10)
    const problems: Array<string> = []
    let converged = 0
    let abandoned = 0
    for (let k = 1; k <= actionsInColdDeploy; k++) {
      await removeContainersKeepVolumes(SCOPE)
      const crash = await applyKilled(env, { afterResults: k }, "examples/shop")
      applies++
      const found = await checkConverged(
        `k=${k} (killed after ${crash.printed} results${crash.killed ? "" : ", it ended first"})`
      )
      if (found.length === 0) converged++
      problems.push(...found)
      const runs = JSON.parse((await moor(env, "runs", "--json", "--limit", "2")).stdout) as Array<{ status: string }>
      if (runs[1]?.status === "abandoned") abandoned++
    }
    summary(`crash_points ${converged}/${actionsInColdDeploy} converged (${abandoned} crashed runs marked abandoned)`)
    expect(problems).toEqual([])
    expect(abandoned).toBe(actionsInColdDeploy)
  })

  it("a replacement killed at any moment leaves no leftover, and the next pass converges", async () => {
    const spec = mkdtempSync(join(tmpdir(), "moor-crash-spec-"))
    cpSync("examples/shop", spec, { recursive: true })
    const compose = join(spec, "web", "compose.yaml")
    const problems: Array<string> = []
    const delays = [200, 500, 900, 1400, 2000, 3000]
    let converged = 0
    for (const [i, delay] of delays.entries()) {
      // Alternate the image, so that each round is a replacement.
      writeFileSync(
        compose,
        readFileSync("examples/shop/web/compose.yaml", "utf8").replace(
          "moor-fixture/app:2",
          i % 2 === 0 ? "moor-fixture/app:1" : "moor-fixture/app:2"
        )
      )
      await applyKilled(env, { afterMs: delay }, spec)
      const again = await moor(env, "apply", spec, "--quiet")
      applies += 2
      const plan = await moor(env, "plan", spec, "--detailed-exitcode")
      const names = (await engineView(SCOPE)).containers.map((c) => c.name)
      const label = `replacement killed after ${delay} ms`
      if (again.code !== 0) problems.push(`${label}: the next pass exited ${again.code}: ${again.stdout.slice(-600)}`)
      if (plan.code !== 0) problems.push(`${label}: not converged:\n${plan.stdout}`)
      if (JSON.stringify(names) !== JSON.stringify(expectedNames))
        problems.push(`${label}: containers ${names.join(", ")}`)
      if (again.code === 0 && plan.code === 0 && JSON.stringify(names) === JSON.stringify(expectedNames)) converged++
    }
    summary(`crash_replacements ${converged}/${delays.length} converged`)
    expect(problems).toEqual([])
  })

  it("nothing was lost: the volume's data, the foreign container, a run for every apply", async () => {
    const touched = foreign === undefined ? ["no foreign container"] : await foreignProblems(foreign)
    const runs = await runsOf(env)
    summary(
      `nothing_lost crash: volume data ${markerKept}/${markerChecks} kept, foreign container ${touched.length === 0 ? "untouched" : "TOUCHED"}, ${runs.length}/${applies} runs kept`
    )
    expect(touched).toEqual([])
    expect(runs.length).toBe(applies)
    expect(markerKept).toBe(markerChecks)
  })
})
