/**
 * Section 4, concurrent runners: four `moor apply` at once on the same spec and engine, two sharing
 * the SQLite default and two sharing PostgreSQL. Every container is created and started once (as
 * the engine's own events tell), no name conflict surfaces as a failure, and the result converges.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, raw } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import {
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
import { dropTestSchemas, uniqueSchema, urlWithSchema } from "../support/repo/pg.ts"
import { cliEnv } from "../support/fleet-cli.ts"

const SCOPE = "shop"

let foreign: Foreign | undefined
beforeAll(async () => {
  await requireServers("postgres")
  await cleanupScope(SCOPE)
  foreign = await plantForeign(raw, "web-frontend-1-foreign")
})
afterAll(async () => {
  if (foreign !== undefined) await removeForeign(foreign)
  await cleanupScope(SCOPE)
  await dropTestSchemas()
})

/** The engine's container events for the scope while `run` runs: name -> action -> count. */
const engineEvents = async (run: () => Promise<void>): Promise<Map<string, Map<string, number>>> => {
  const counts = new Map<string, Map<string, number>>()
  const stream = await raw.getEvents({ filters: { type: ["container"], label: [`moor.scope=${SCOPE}`] } })
  let buffer = ""
  stream.on("data", (chunk: Buffer) => {
    buffer += chunk.toString()
    const lines = buffer.split("\n")
    buffer = lines.pop() ?? ""
    for (const line of lines.filter((l) => l.trim() !== "")) {
      const e = JSON.parse(line) as { Action: string; Actor: { Attributes: Record<string, string> } }
      const name = e.Actor.Attributes.name ?? "?"
      const byAction = counts.get(name) ?? new Map<string, number>()
      byAction.set(e.Action, (byAction.get(e.Action) ?? 0) + 1)
      counts.set(name, byAction)
    }
  })
  await run()
  await new Promise((r) => setTimeout(r, 500))
  ;(stream as unknown as { destroy: () => void }).destroy()
  return counts
}

describe("concurrent runners", () => {
  it("four runners at once (two on SQLite, two on PostgreSQL) converge, each container created and started once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "moor-concurrent-"))
    const sqlite = cliEnv(`sqlite:${join(dir, "state.db")}`)
    const pg = cliEnv(urlWithSchema(uniqueSchema()))
    const rounds = 3
    const problems: Array<string> = []
    let failures = 0
    const marker = `concurrent-${Date.now()}`
    let markerKept = 0
    for (let round = 1; round <= rounds; round++) {
      await removeContainersKeepVolumes(SCOPE)
      let runs: Array<{ code: number; stdout: string; stderr: string }> = []
      const events = await engineEvents(async () => {
        runs = await Promise.all([
          moor(sqlite, "apply", "examples/shop", "--quiet"),
          moor(sqlite, "apply", "examples/shop", "--quiet"),
          moor(pg, "apply", "examples/shop", "--quiet"),
          moor(pg, "apply", "examples/shop", "--quiet")
        ])
      })
      runs.forEach((r, i) => {
        if (r.code !== 0) {
          failures++
          problems.push(`round ${round}, runner ${i + 1} exited ${r.code}: ${r.stderr}${r.stdout.slice(-1000)}`)
        }
      })
      for (const [name, byAction] of events) {
        for (const action of ["create", "start"]) {
          const n = byAction.get(action) ?? 0
          if (n > 1) problems.push(`round ${round}: ${name} ${action} ${n} times`)
        }
      }
      const names = (await engineView(SCOPE)).containers.map((c) => c.name)
      if (names.join(",") !== "api-migrate-1,api-server-1,db-store-1,web-frontend-1")
        problems.push(`round ${round}: containers ${names.join(", ")}`)
      const converged = await moor(sqlite, "plan", "examples/shop", "--detailed-exitcode")
      if (converged.code !== 0) problems.push(`round ${round}: not converged:\n${converged.stdout}`)
      // The volume's data, written after the first round, is still there after the next ones.
      if (round === 1) await execIn("db-store-1", ["sh", "-c", `echo ${marker} > /data/marker`])
      else if ((await execIn("db-store-1", ["cat", "/data/marker"]).catch(String)).trim() === marker) markerKept++
      else problems.push(`round ${round}: the volume's data is gone`)
    }
    const touched = foreign === undefined ? ["no foreign container"] : await foreignProblems(foreign)
    problems.push(...touched)
    // Each runner keeps its runs in its own repository: 2 applies per repository per round.
    const kept = (await runsOf(sqlite)).length + (await runsOf(pg)).length
    if (kept !== rounds * 4) problems.push(`the repos keep ${kept} runs of ${rounds * 4}`)
    summary(
      `nothing_lost concurrency: volume data ${markerKept}/${rounds - 1} kept, foreign container ${touched.length === 0 ? "untouched" : "TOUCHED"}, ${kept}/${rounds * 4} runs kept`
    )
    summary(`concurrent_runners 4x${rounds} rounds, ${failures} runner failures, ${problems.length} problems`)
    expect(problems).toEqual([])
  })
})
