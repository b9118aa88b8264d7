/**
 * Section 3, the engine going away: engine B's dockerd is stopped in the middle of `moor apply` (a
 * real process) on a spec with apps on two hosts, at three moments: while a database's health check
 * is awaited, while an `on_start` hook runs, and while the pass settles after its last action. Each
 * time the pass reports host b unknown (its run failed, exit 1), host a converges, and nothing on b
 * changes after the moment it went away; once b is back, the next pass converges. Throughout, the
 * data in b's named volume, a foreign container on b and the repo's record of every run are kept.
 * Engine B is stopped only while no container is being created or started on it: a dockerd stopped
 * in the middle of a start can leave a dead container that no one can remove.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import {
  cleanupEngine,
  containersOf,
  engineA,
  engineBRaw,
  execOut,
  startEngineB,
  stopEngineB
} from "../support/fleet-engines.ts"
import { hostA, hostB, moorYaml } from "../support/fleet-spec.ts"
import {
  CLI,
  type Foreign,
  foreignProblems,
  moor,
  NODE,
  plantForeign,
  removeForeign,
  runsOf,
  summary
} from "../support/gauntlet.ts"
import { cliEnv } from "../support/fleet-cli.ts"

const tok = randomBytes(3).toString("hex")
const SCOPE = `gauntlet-away-${tok}`
const KEEP = `ga${tok}keep`
const STORE = `ga${tok}store`
const PROV = `ga${tok}prov`
const CONS = `ga${tok}cons`
const MARKER = `engine-away-${tok}`
const dir = mkdtempSync(join(tmpdir(), "moor-away-"))
const env = cliEnv(`sqlite:${join(dir, "state.db")}`)

const apps: Record<string, string> = {
  [KEEP]: `x-moor: { hosts: [a] }
services:
  web: { image: moor-fixture/app:1 }
`,
  [STORE]: `x-moor: { hosts: [b] }
services:
  db:
    image: moor-fixture/app:1
    # Healthy 10 s after it starts: engine B, stopped when the start is reported, is surely stopped
    # during the health wait, before the pass starts anything else on b (a dockerd stopped in the
    # middle of a start can leave a container that cannot start again).
    command: ["sh", "-c", "(sleep 10; touch /tmp/ready) & exec /bin/moor-app"]
    healthcheck: { test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 1s, start_period: 60s, retries: 3 }
    volumes: [data:/data]
  web:
    image: moor-fixture/app:1
    depends_on: { db: { condition: service_healthy } }
volumes:
  data: {}
`,
  [PROV]: `x-moor: { hosts: [b] }
services:
  web: { image: moor-fixture/app:1 }
`,
  [CONS]: `x-moor:
  hosts: [b]
  requires: [{ app: ${PROV}, on_start: hooks/slow.sh }]
services:
  web: { image: moor-fixture/app:1 }
`
}

/** The spec with these apps only (each stop point has one thing going on on b at a time). */
const specWith = (names: ReadonlyArray<string>): string => {
  const root = mkdtempSync(join(dir, "spec-"))
  writeFileSync(join(root, "moor.yaml"), moorYaml({ scope: SCOPE, hosts: [hostA(), hostB()] }))
  for (const name of names) {
    mkdirSync(join(root, name, "hooks"), { recursive: true })
    writeFileSync(join(root, name, "compose.yaml"), apps[name]!)
  }
  if (names.includes(PROV)) writeFileSync(join(root, PROV, "hooks", "slow.sh"), "#!/bin/sh\nsleep 8\n", { mode: 0o755 })
  return root
}

const names = async (engine: typeof engineA) =>
  (await containersOf(engine, SCOPE)).map((c) => `${c.name} ${c.id.slice(0, 12)}`).sort()

/**
 * `moor apply SPEC`, with engine B stopped as soon as an output line matches `when`. Resolves with
 * the exit code and output, and what b held at the moment it was stopped.
 */
const applyWhileBGoes = (spec: string, when: RegExp) =>
  new Promise<{ code: number; stdout: string; stderr: string; bAtStop: ReadonlyArray<string> | undefined }>(
    (resolve) => {
      const child: ChildProcess = spawn(NODE, [CLI, "apply", spec], { env, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      let stopping: Promise<ReadonlyArray<string>> | undefined
      child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stopping === undefined && stdout.split("\n").some((l) => when.test(l)))
          stopping = names(engineBRaw).then(async (seen) => {
            await stopEngineB()
            return seen
          })
      })
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      child.on("exit", (code) => {
        void (stopping ?? Promise.resolve(undefined)).then((bAtStop) =>
          resolve({ code: code ?? 1, stdout, stderr, bAtStop })
        )
      })
    }
  )

const POINTS = [
  { name: "health wait", apps: [KEEP, STORE], when: new RegExp(`^  ok\\s+b: > start ${STORE}-db-1 `) },
  { name: "on_start hook", apps: [KEEP, PROV, CONS], when: new RegExp(`^  ok\\s+b: \\* wait healthy ${PROV}-web-1 `) },
  { name: "settling", apps: [KEEP, STORE], when: new RegExp(`^  ok\\s+b: > start ${STORE}-web-1 `) }
] as const

let foreign: Foreign | undefined

beforeAll(async () => {
  await requireServers("engine-b", "engine-b-tls")
  await startEngineB()
  await requireFixtures()
  await cleanupEngine(engineA, SCOPE)
  await cleanupEngine(engineBRaw, SCOPE)
})
afterAll(async () => {
  await startEngineB()
  if (foreign !== undefined) await removeForeign(foreign)
  await cleanupEngine(engineA, SCOPE)
  await cleanupEngine(engineBRaw, SCOPE)
})

describe("the engine going away", () => {
  it("b stops mid-pass at three moments: reported unknown, nothing else changed, the next pass converges", async () => {
    const problems: Array<string> = []
    let applies = 0
    // The data that must survive, and a container moor must leave alone.
    const all = specWith([KEEP, STORE, PROV, CONS])
    expect((await moor(env, "apply", all, "--quiet")).code).toBe(0)
    applies++
    await execOut(engineBRaw, `${STORE}-db-1`, ["sh", "-c", `echo ${MARKER} > /data/marker`])
    foreign = await plantForeign(engineBRaw, `${STORE}-web-1-foreign`)

    let handled = 0
    let markerChecks = 0
    let markerKept = 0
    let foreignTouched = 0
    for (const point of POINTS) {
      const spec = specWith(point.apps)
      // Work on both hosts: a's app and every container of the scope on b are gone (b's volume stays).
      for (const c of [...(await containersOf(engineA, SCOPE)), ...(await containersOf(engineBRaw, SCOPE))]) {
        const engine = c.name.startsWith(KEEP) ? engineA : engineBRaw
        await engine.getContainer(c.id).remove({ force: true })
      }
      const run = await applyWhileBGoes(spec, point.when)
      applies++
      const at = `${point.name}`
      if (run.bAtStop === undefined) {
        problems.push(`${at}: engine B was never stopped (no line matched ${point.when}):\n${run.stdout}`)
        await startEngineB()
        continue
      }
      if (run.code !== 1) problems.push(`${at}: apply exited ${run.code}, expected 1`)
      if (!/host b is unknown, nothing on it was changed/.test(run.stderr))
        problems.push(`${at}: no "host b is unknown" on stderr: ${run.stderr}`)
      const [newest] = await runsOf(env)
      const runsNow = (await runsOf(env)).slice(0, 2)
      const statuses = runsNow.map((r) => `${r.id.slice(-1)} ${r.status}`).sort()
      if (statuses.join(",") !== "a succeeded,b failed")
        problems.push(`${at}: runs ${statuses.join(", ")} (newest ${newest?.id})`)
      if ((await names(engineA)).length !== 1 || (await containersOf(engineA, SCOPE))[0]?.state !== "running")
        problems.push(`${at}: host a did not converge: ${(await names(engineA)).join(", ")}`)

      await startEngineB()
      const bBack = await names(engineBRaw)
      if (bBack.join(",") !== run.bAtStop.join(","))
        problems.push(`${at}: b changed after it went away: [${run.bAtStop.join(", ")}] -> [${bBack.join(", ")}]`)

      const again = await moor(env, "apply", spec, "--quiet")
      applies++
      if (again.code !== 0) problems.push(`${at}: the next pass exited ${again.code}: ${again.stderr}`)
      const plan = await moor(env, "plan", spec, "--detailed-exitcode")
      if (plan.code !== 0) problems.push(`${at}: not converged, plan exits ${plan.code}:\n${plan.stdout}`)
      const foreignNow = await foreignProblems(foreign, true)
      foreignTouched += foreignNow.length
      problems.push(...foreignNow.map((p) => `${at}: ${p}`))
      if (point.apps.includes(STORE)) {
        markerChecks++
        const marker = await execOut(engineBRaw, `${STORE}-db-1`, ["cat", "/data/marker"]).catch(String)
        if (marker.trim() === MARKER) markerKept++
        else problems.push(`${at}: the volume's data is gone (${marker.trim()})`)
      }
      handled++
    }
    const runs = await runsOf(env)
    // Every apply recorded one run per host, and the repo kept them all.
    if (runs.length !== applies * 2) problems.push(`the repo keeps ${runs.length} runs of ${applies * 2}`)
    summary(
      `engine_away ${handled}/${POINTS.length} stop points: host unknown, nothing else changed, next pass converged; ${problems.length} problems`
    )
    summary(
      `nothing_lost engine_away: volume data ${markerKept}/${markerChecks} kept, foreign container ${foreignTouched === 0 ? "untouched" : "TOUCHED"}, ${runs.length}/${applies * 2} runs kept`
    )
    expect(problems).toEqual([])
  })
})
