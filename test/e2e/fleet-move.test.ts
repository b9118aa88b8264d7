/**
 * An app moved from one host to another (by name, then back by a host label), with `moor apply` as a
 * real process and PostgreSQL as the repository: it is created on the new host and healthy there
 * before it is stopped on the old one, and there is no moment (the engines are sampled during the
 * pass) when no engine runs a healthy instance of it. Its old network goes once nothing uses it.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunActionRecord } from "../../adapters/repo/Repo.ts"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import {
  cleanupFleet,
  engineA,
  engineBRaw,
  engines,
  startEngineB,
  stopEngineB,
  summaryOf
} from "../support/fleet-engines.ts"
import { freshPgRepo, runsWithActions } from "../support/fleet-repo.ts"
import { type FleetApp, hostA, hostB, removeTempDirs, tempDir, writeSpec } from "../support/fleet-spec.ts"
import { gaps, watchApp } from "../support/fleet-watch.ts"
import { dropTestSchemas } from "../support/repo/pg.ts"

const tok = randomBytes(3).toString("hex")
const SCOPE = `fleet-m-${tok}`
const MOVER = `fm${tok}mover`
const STAY = `fm${tok}stay`
const repo = freshPgRepo()
const env = cliEnv(repo)
const dir = tempDir("move")
const stay: FleetApp = { name: STAY, hosts: ["a"] }

const networksOf = async (engine: typeof engineA): Promise<ReadonlyArray<string>> =>
  (await engine.listNetworks({ filters: { label: [`moor.scope=${SCOPE}`] } })).map((n) => n.Name).sort()

/** The actions of one pass (run ids `<pass>-a`, `<pass>-b`) on the mover. */
const moverActions = async (passId: string): Promise<ReadonlyArray<RunActionRecord>> =>
  (await runsWithActions(repo, SCOPE))
    .filter((d) => d.run.id.startsWith(`${passId}-`))
    .flatMap((d) => d.actions)
    .filter((x) => x.app === MOVER)

const passIdOf = (stdout: string): string => {
  const m = /run (\S+)-a, \S+-b\)/.exec(stdout)
  if (m?.[1] === undefined) throw new Error(`no run ids in the output:\n${stdout}`)
  return m[1]
}

/** Applies the spec while sampling both engines; returns the output and the samples. */
const applyWatching = async () => {
  const watcher = watchApp(engines, SCOPE, MOVER)
  const r = await moor(env, "apply", dir)
  const samples = await watcher.stop()
  return { r, samples }
}

const first = (actions: ReadonlyArray<RunActionRecord>, host: string, kind: string): RunActionRecord => {
  const found = actions.find((x) => x.host === host && x.kind === kind)
  if (found === undefined)
    throw new Error(`no ${kind} on ${host} among ${actions.map((x) => `${x.host}:${x.kind}:${x.outcome}`).join(", ")}`)
  return found
}

beforeAll(async () => {
  await requireServers("postgres", "engine-b", "engine-b-tls")
  await requireFixtures()
  await cleanupFleet(SCOPE)
})
afterAll(async () => {
  removeTempDirs()
  await startEngineB()
  await cleanupFleet(SCOPE)
  await dropTestSchemas()
})

describe("an app moved between hosts", () => {
  it("by name: up and healthy on b before it leaves a, never zero instances", async () => {
    writeSpec(dir, { scope: SCOPE, hosts: [hostA(), hostB()], apps: [{ name: MOVER, hosts: ["a"] }, stay] })
    const deployed = await moor(env, "apply", dir)
    expect(deployed.code).toBe(0)
    expect(await summaryOf(engineA, SCOPE)).toEqual([`${MOVER}-web-1 running`, `${STAY}-web-1 running`])

    writeSpec(dir, { scope: SCOPE, hosts: [hostA(), hostB()], apps: [{ name: MOVER, hosts: ["b"] }, stay] })
    const plan = await moor(env, "plan", dir)
    expect(plan.stdout).toContain(`- stop ${MOVER}-web-1 (app ${MOVER} moved to b)`)
    expect(plan.stdout).toContain(`+ create ${MOVER}-web-1 (moor-fixture/app:1) (missing)`)

    const { r, samples } = await applyWatching()
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(await summaryOf(engineA, SCOPE)).toEqual([`${STAY}-web-1 running`])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${MOVER}-web-1 running`])
    expect(await networksOf(engineA)).toEqual([`${STAY}_default`])
    expect(await networksOf(engineBRaw)).toEqual([`${MOVER}_default`])

    const actions = await moverActions(passIdOf(r.stdout))
    expect(actions.every((x) => x.outcome === "done")).toBe(true)
    const healthyOnB = first(actions, "b", "wait-healthy")
    const stopOnA = first(actions, "a", "stop")
    expect(first(actions, "b", "create").finishedAt).toBeLessThanOrEqual(healthyOnB.startedAt)
    expect(stopOnA.startedAt).toBeGreaterThanOrEqual(healthyOnB.finishedAt)
    expect(first(actions, "a", "remove").startedAt).toBeGreaterThanOrEqual(stopOnA.finishedAt)

    expect(samples.length).toBeGreaterThan(3)
    expect(gaps(samples)).toEqual([])
    // The samples did see it move: on a only at first, on b only at the end.
    expect(samples[0]?.present).toEqual({ a: [`${MOVER}-web-1`], b: [] })
    expect(samples.at(-1)?.present).toEqual({ a: [], b: [`${MOVER}-web-1`] })
  })

  it("by label: the label moves to a, and so does the app, with the same order and no gap", async () => {
    const placed: FleetApp = { name: MOVER, labels: { role: "edge" } }
    writeSpec(dir, { scope: SCOPE, hosts: [hostA(), hostB({ role: "edge" })], apps: [placed, stay] })
    const settled = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(settled.code).toBe(0)

    writeSpec(dir, { scope: SCOPE, hosts: [hostA({ role: "edge" }), hostB()], apps: [placed, stay] })
    const { r, samples } = await applyWatching()
    expect(r.code).toBe(0)
    expect(await summaryOf(engineA, SCOPE)).toEqual([`${MOVER}-web-1 running`, `${STAY}-web-1 running`])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([])

    const actions = await moverActions(passIdOf(r.stdout))
    const healthyOnA = first(actions, "a", "wait-healthy")
    expect(first(actions, "b", "stop").startedAt).toBeGreaterThanOrEqual(healthyOnA.finishedAt)
    expect(gaps(samples)).toEqual([])
    expect(samples.at(-1)?.present).toEqual({ a: [`${MOVER}-web-1`], b: [] })
  })

  it("to a host that is down: kept where it is, and moved once that host answers", async () => {
    const placed: FleetApp = { name: MOVER, labels: { role: "edge" } }
    writeSpec(dir, { scope: SCOPE, hosts: [hostA(), hostB({ role: "edge" })], apps: [placed, stay] })
    await stopEngineB()
    try {
      const r = await moor(env, "apply", dir)
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(
        new RegExp(
          `! skip ${MOVER}/web \\(app ${MOVER} moved to b, but is not ready there \\(on host b: .*host b is unknown.*\\); kept here until it is\\)`
        )
      )
      // Nothing of it is removed from a meanwhile, not even its network.
      expect(r.stdout).not.toContain(`remove network ${MOVER}_default`)
      expect(r.stdout).not.toContain("FAIL")
      expect(await networksOf(engineA)).toEqual([`${MOVER}_default`, `${STAY}_default`])
      expect(await summaryOf(engineA, SCOPE)).toEqual([`${MOVER}-web-1 running`, `${STAY}-web-1 running`])
    } finally {
      await startEngineB()
    }
    const { r, samples } = await applyWatching()
    expect(r.code).toBe(0)
    expect(await summaryOf(engineA, SCOPE)).toEqual([`${STAY}-web-1 running`])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${MOVER}-web-1 running`])
    expect(gaps(samples)).toEqual([])
  })
})
