/**
 * One host of two goes away (engine B's dockerd is stopped), between passes and in the middle of
 * one: the other host still converges; the stopped host is reported unknown (its run `failed` with
 * the reason), nothing on it is touched and the repo's app states for it stay as they were; when it
 * comes back, the next pass converges it. Passes run in-process, the way the CLI runs them, with
 * PostgreSQL as the repository and engine B reached over TCP with mutual TLS; the hosts are declared
 * in a hosts.yaml.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ActionResult } from "../../runners/execute/result.ts"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import {
  cleanupFleet,
  containersOf,
  engineA,
  engineBRaw,
  engineBUp,
  startEngineB,
  stopEngineB,
  summaryOf
} from "../support/fleet-engines.ts"
import { fleetPass, loadFleet, runStatuses } from "../support/fleet-pass.ts"
import { appStatesOn, freshPgRepo, runsWithActions, stateLines } from "../support/fleet-repo.ts"
import { dropApp, hostA, hostB, removeTempDirs, tempDir, writeSpec } from "../support/fleet-spec.ts"
import { dropTestSchemas } from "../support/repo/pg.ts"

const tok = randomBytes(3).toString("hex")
const SCOPE = `fleet-d-${tok}`
const BOTH = `fd${tok}both`
const BONLY = `fd${tok}bonly`
const DURING = `fleet-dp-${tok}`
const FRONT = `fd${tok}front`
const SLOW = `fd${tok}slow`
const repo = freshPgRepo()
// The hosts in a hosts.yaml beside the apps (moor.yaml holds the scope alone).
const dir = writeSpec(tempDir("down"), {
  scope: SCOPE,
  hostsFile: true,
  hosts: [hostA(), hostB()],
  apps: [
    { name: BOTH, hosts: ["a", "b"] },
    { name: BONLY, hosts: ["b"] }
  ]
})

beforeAll(async () => {
  await requireServers("postgres", "engine-b", "engine-b-tls")
  await requireFixtures()
  await cleanupFleet(SCOPE)
  await cleanupFleet(DURING)
})
afterAll(async () => {
  removeTempDirs()
  // Whatever happened, engine B is left running for whoever comes next.
  await startEngineB()
  await cleanupFleet(SCOPE)
  await cleanupFleet(DURING)
  await dropTestSchemas()
})

/** Removes a container behind moor's back (gone already: fine). */
const removeOn = (engine: typeof engineA, name: string): Promise<void> =>
  engine
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined)

describe("a fleet with one host gone", () => {
  it("between passes: a converges, b is unknown and untouched, and converges once it is back", async () => {
    const loaded = await loadFleet(dir, repo)
    const first = await fleetPass(loaded, { id: `${tok}-1` })
    expect(runStatuses(first)).toEqual(["a succeeded", "b succeeded"])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${BONLY}-web-1 running`, `${BOTH}-web-1 running`])
    const bBefore = (await containersOf(engineBRaw, SCOPE)).map((c) => `${c.name} ${c.id}`)
    const statesBefore = await appStatesOn(repo, SCOPE, ["a", "b"])

    // Work for host a (its container is gone), and host b goes away.
    await removeOn(engineA, `${BOTH}-web-1`)
    await stopEngineB()
    expect(await engineBUp()).toBe(false)

    const second = await fleetPass(loaded, { id: `${tok}-2` })
    expect(runStatuses(second)).toEqual(["a succeeded", "b failed"])
    const bRun = second.runs.find((r) => r.host === "b")
    expect(bRun?.error).toMatch(/^host b is unknown: /)
    expect(bRun?.error).toContain("10.213.255.2")
    expect(second.finalPlan.hosts.map((h) => `${h.host} ${h.status}`)).toEqual(["a known", "b unknown"])
    // Nothing was even tried on b: its apps are left alone (skips).
    const bOutcomes = (results: ReadonlyArray<{ action: { _tag: string; app: string }; outcome: string }>) =>
      results.map((r) => `${r.action._tag} ${r.action.app} ${r.outcome}`).sort()
    expect(bOutcomes(second.results.filter((r) => r.action.host === "b"))).toEqual([
      `skip ${BONLY} skipped`,
      `skip ${BOTH} skipped`
    ])
    expect(
      second.finalPlan.apps.filter((x) => x.host === "b").map((x) => `${x.app} ${x.state} ${x.skipped ?? ""}`)
    ).toEqual([`${BONLY} unknown host b is unknown; left alone`, `${BOTH} unknown host b is unknown; left alone`])
    expect(await summaryOf(engineA, SCOPE)).toEqual([`${BOTH}-web-1 running`])

    const runs = await runsWithActions(repo, SCOPE)
    const recordedB = runs.find((d) => d.run.id === `${tok}-2-b`)
    expect(recordedB?.run.status).toBe("failed")
    expect(recordedB?.run.error).toBe(bRun?.error)
    expect(bOutcomes((recordedB?.actions ?? []).map((x) => ({ action: { _tag: x.kind, app: x.app }, ...x })))).toEqual([
      `skip ${BONLY} skipped`,
      `skip ${BOTH} skipped`
    ])
    const recordedA = runs.find((d) => d.run.id === `${tok}-2-a`)
    expect(recordedA?.run.status).toBe("succeeded")
    expect(recordedA?.actions.map((x) => `${x.kind} ${x.app} ${x.outcome}`)).toContain(`create ${BOTH} done`)
    // The repo's states for b are the ones it had: a host that does not answer tells nothing new.
    const statesDuring = await appStatesOn(repo, SCOPE, ["a", "b"])
    expect(statesDuring.b).toEqual(statesBefore.b)
    expect(stateLines(statesDuring)).toEqual([`a/${BOTH} running`, `b/${BONLY} running`, `b/${BOTH} running`])

    // What a person sees meanwhile: b unknown, the repo's last word on its apps kept.
    const env = cliEnv(repo)
    const status = await moor(env, "status", dir)
    expect(status.stdout).toMatch(/^host b: unknown \(.*10\.213\.255\.2.*\)$/m)
    expect(status.stdout).toMatch(new RegExp(`^b\\s+${BONLY}\\s+unknown\\s+running \\(`, "m"))
    const apply = await moor(env, "apply", dir)
    expect(apply.code).toBe(1)
    expect(apply.stderr).toMatch(/^error: host b is unknown, nothing on it was changed: /m)
    expect(apply.stdout).toMatch(/Apply incomplete: 0 done, 0 failed, 0 skipped in .*; run \S+-a, \S+-b failed\)/)

    await startEngineB()
    // moor changed nothing on b while it was away: the same containers (stopped with their engine).
    expect((await containersOf(engineBRaw, SCOPE)).map((c) => `${c.name} ${c.id}`)).toEqual(bBefore)

    const third = await fleetPass(loaded, { id: `${tok}-3` })
    expect(runStatuses(third)).toEqual(["a succeeded", "b succeeded"])
    expect(third.results.filter((r) => r.action.host === "a")).toEqual([])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${BONLY}-web-1 running`, `${BOTH}-web-1 running`])
    expect(stateLines(await appStatesOn(repo, SCOPE, ["a", "b"]))).toEqual([
      `a/${BOTH} running`,
      `b/${BONLY} running`,
      `b/${BOTH} running`
    ])
  })

  it("during a pass: b goes away while a one-shot job runs there; a converges, b ends failed, the next pass heals it", async () => {
    await startEngineB()
    // B is stopped while its job container runs (12 s) and the pass polls it: no container is
    // being created or started on B at that moment (a dockerd stopped in the middle of a start can
    // leave a dead container whose root filesystem stays mounted, which no one can remove).
    const scope = DURING
    const specDir = writeSpec(tempDir("during"), {
      scope,
      hosts: [hostA(), hostB()],
      apps: [
        { name: FRONT, hosts: ["a"] },
        {
          name: SLOW,
          hosts: ["b"],
          services: {
            job: {
              command: ["sh", "-c", 'trap "exit 143" TERM; sleep 12 & wait'],
              restart: "no",
              noHealthcheck: true
            },
            web: { dependsOn: { job: "service_completed_successfully" } }
          }
        }
      ]
    })
    const loaded = await loadFleet(specDir, repo)
    let stopped = false
    const seen: Array<ActionResult> = []
    const pass = await fleetPass(loaded, {
      id: `${tok}-4`,
      execute: {
        onResult: (r) =>
          Effect.promise(async () => {
            seen.push(r)
            if (!stopped && r.action.host === "b" && r.action._tag === "start" && r.outcome === "done") {
              stopped = true
              await stopEngineB()
            }
          })
      }
    })
    expect(stopped).toBe(true)
    expect(pass.runs.map((r) => `${r.host} ${r.status}`)).toEqual(["a succeeded", "b failed"])
    expect(pass.runs.find((r) => r.host === "b")?.error).toMatch(/^host b is unknown: /)
    expect(await summaryOf(engineA, scope)).toEqual([`${FRONT}-web-1 running`])
    // On b: the job was started; B stopping stopped it (exit 143), so the web service that waits for
    // it was not created.
    const onB = seen.filter((r) => r.action.host === "b").map((r) => `${r.action.id} ${r.outcome}`)
    expect(onB).toContain(`b/${SLOW}/job:start done`)
    expect(onB).toContain(`b/${SLOW}/job:wait-completed failed`)
    expect(onB).toContain(`b/${SLOW}/web:create skipped`)
    // Stopped by its engine, not failed by itself: the next pass runs it again.
    await startEngineB()
    const healed = await fleetPass(loaded, { id: `${tok}-5` })
    // With the reasons, so that a failure says what went wrong.
    expect(healed.runs.map((r) => `${r.host} ${r.status} ${r.error ?? ""}`.trim())).toEqual([
      "a succeeded",
      "b succeeded"
    ])
    expect(await summaryOf(engineBRaw, scope)).toEqual([`${SLOW}-job-1 exited`, `${SLOW}-web-1 running`])
    const runs = await runsWithActions(repo, scope)
    expect(runs.map((d) => `${d.run.id} ${d.run.status}`)).toEqual([
      `${tok}-4-a succeeded`,
      `${tok}-4-b failed`,
      `${tok}-5-a succeeded`,
      `${tok}-5-b succeeded`
    ])
  })

  it("an app taken out of the spec while b is down: removed from a now, from b once it is back", async () => {
    await startEngineB()
    const loaded = await loadFleet(dir, repo)
    expect(runStatuses(await fleetPass(loaded, { id: `${tok}-6` }))).toEqual(["a succeeded", "b succeeded"])
    const spec = tempDir("down-dropped")
    writeSpec(spec, {
      scope: SCOPE,
      hosts: [hostA(), hostB()],
      apps: [
        { name: BOTH, hosts: ["a", "b"] },
        { name: BONLY, hosts: ["b"] }
      ]
    })
    dropApp(spec, BOTH)
    const without = await loadFleet(spec, repo)
    await stopEngineB()
    try {
      const pass = await fleetPass(without, { id: `${tok}-7` })
      expect(runStatuses(pass)).toEqual(["a succeeded", "b failed"])
      expect(await summaryOf(engineA, SCOPE)).toEqual([])
      // b's states stay as they were: the repo learns nothing about a host that does not answer.
      expect(stateLines(await appStatesOn(repo, SCOPE, ["a", "b"]))).toEqual([
        `b/${BONLY} running`,
        `b/${BOTH} running`
      ])
    } finally {
      await startEngineB()
    }
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${BONLY}-web-1 exited`, `${BOTH}-web-1 exited`])
    const back = await fleetPass(without, { id: `${tok}-8` })
    expect(runStatuses(back)).toEqual(["a succeeded", "b succeeded"])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${BONLY}-web-1 running`])
    expect(stateLines(await appStatesOn(repo, SCOPE, ["a", "b"]))).toEqual([`b/${BONLY} running`])
  })
})
