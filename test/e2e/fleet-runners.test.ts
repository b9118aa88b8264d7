/**
 * Several runners, one PostgreSQL repository, two real engines. Runners never reconcile the same
 * host at once (leases), and do work on different hosts at the same time:
 * - two runners started at the same instant on the same spec take turns, every time: neither waits
 *   out its lease wait nor leaves a host alone (leases are taken in host order, so two runners can
 *   never each hold one host while waiting for the other's);
 * - two `moor apply` processes on the same spec: every action is done once, nothing fails, the hosts
 *   converge, and no two runs on one host overlap;
 * - two `moor apply` processes whose specs split the hosts (same scope, one host each): their runs
 *   overlap in time;
 * - a host whose lease another runner holds is left alone (and said so) while the others converge.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunDetail } from "../../adapters/repo/Repo.ts"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import { cliEnv, type CliResult, moor } from "../support/fleet-cli.ts"
import { cleanupFleet, engineA, engineBRaw, summaryOf } from "../support/fleet-engines.ts"
import { fleetPass, fleetRunner, loadFleet, runStatuses } from "../support/fleet-pass.ts"
import { freshPgRepo, runsWithActions, withRepo } from "../support/fleet-repo.ts"
import { type FleetApp, hostA, hostB, removeTempDirs, tempDir, writeSpec } from "../support/fleet-spec.ts"
import { dropTestSchemas } from "../support/repo/pg.ts"

const tok = randomBytes(3).toString("hex")
// One scope per test: each test's spec would otherwise see the others' apps as orphans.
const SCOPES = {
  turns: `fleet-rt-${tok}`,
  same: `fleet-rs-${tok}`,
  split: `fleet-rp-${tok}`,
  busy: `fleet-rb-${tok}`
} as const
const app = (n: string, hosts: ReadonlyArray<string>): FleetApp => ({ name: `fr${tok}${n}`, hosts })

beforeAll(async () => {
  await requireServers("postgres", "engine-b", "engine-b-tls")
  await requireFixtures()
  for (const scope of Object.values(SCOPES)) await cleanupFleet(scope)
})
afterAll(async () => {
  removeTempDirs()
  for (const scope of Object.values(SCOPES)) await cleanupFleet(scope)
  await dropTestSchemas()
})

/** Pairs of runs on the same host whose times overlap. */
const overlapsOnOneHost = (runs: ReadonlyArray<RunDetail>): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (const x of runs)
    for (const y of runs) {
      if (x.run.id >= y.run.id || x.run.host !== y.run.host) continue
      const xEnd = x.run.finishedAt ?? Number.POSITIVE_INFINITY
      const yEnd = y.run.finishedAt ?? Number.POSITIVE_INFINITY
      if (x.run.startedAt < yEnd && y.run.startedAt < xEnd) out.push(`${x.run.id} / ${y.run.id}`)
    }
  return out
}

/** `host kind app/service` of every action done, with how many times it was done. */
const doneCounts = (runs: ReadonlyArray<RunDetail>): ReadonlyMap<string, number> => {
  const counts = new Map<string, number>()
  for (const d of runs)
    for (const x of d.actions)
      if (x.outcome === "done") {
        const key = `${x.host} ${x.kind} ${x.app}/${x.service ?? ""}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
  return counts
}

const runsOf = async (
  repo: string,
  scope: string,
  results: ReadonlyArray<CliResult>
): Promise<ReadonlyArray<RunDetail>> => {
  const ids = results.flatMap((r) => {
    const m = /\(\d+ rounds?; run ([^)]*)\)/.exec(r.stdout)
    return m?.[1]?.split(", ") ?? []
  })
  return (await runsWithActions(repo, scope)).filter((d) => ids.includes(d.run.id))
}

describe("several runners on one PostgreSQL repository", () => {
  it("two runners started at the same instant on the same hosts take turns, ten times out of ten", async () => {
    const repo = freshPgRepo()
    const dir = writeSpec(tempDir("turns"), {
      scope: SCOPES.turns,
      hosts: [hostA(), hostB()],
      apps: [app("turns", ["a", "b"])]
    })
    const loaded = await loadFleet(dir, repo)
    const one = await fleetRunner(loaded)
    const two = await fleetRunner(loaded)
    const WAIT_MS = 10_000
    try {
      for (let i = 0; i < 10; i++) {
        const lease = { ttlMs: 60_000, waitMs: WAIT_MS }
        const t0 = Date.now()
        const [p1, p2] = await Promise.all([
          one.pass({ id: `${tok}-t${i}-1`, holder: `${tok}-one`, lease }),
          two.pass({ id: `${tok}-t${i}-2`, holder: `${tok}-two`, lease })
        ])
        // A runner that held one host while waiting for the other's would have waited WAIT_MS, then
        // left that host alone ("another moor ... is reconciling host ...").
        expect([runStatuses(p1), runStatuses(p2)]).toEqual([
          ["a succeeded", "b succeeded"],
          ["a succeeded", "b succeeded"]
        ])
        expect(Date.now() - t0).toBeLessThan(WAIT_MS)
      }
    } finally {
      await one.dispose()
      await two.dispose()
    }
    const runs = await runsWithActions(repo, SCOPES.turns)
    expect(runs).toHaveLength(40)
    expect(overlapsOnOneHost(runs)).toEqual([])
    // The app was created once on each host, by whichever runner came first.
    const creates = [...doneCounts(runs)].filter(([k]) => k.includes(" create "))
    expect(creates).toEqual([
      [`a create fr${tok}turns/web`, 1],
      [`b create fr${tok}turns/web`, 1]
    ])
  })

  it("two `moor apply` processes on the same spec: every action once, no failure, converged", async () => {
    const repo = freshPgRepo()
    const env = cliEnv(repo)
    const apps = [
      app("s1", ["a"]),
      app("s2", ["a"]),
      app("s3", ["a", "b"]),
      app("s4", ["b"]),
      app("s5", ["b"]),
      app("s6", ["a", "b"])
    ]
    const dir = writeSpec(tempDir("same"), { scope: SCOPES.same, hosts: [hostA(), hostB()], apps })
    const results = await Promise.all([moor(env, "apply", dir), moor(env, "apply", dir)])
    for (const r of results) {
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      expect(r.stdout).not.toContain("FAIL")
    }
    const onA = apps.filter((x) => x.hosts?.includes("a")).map((x) => `${x.name}-web-1 running`)
    const onB = apps.filter((x) => x.hosts?.includes("b")).map((x) => `${x.name}-web-1 running`)
    expect(await summaryOf(engineA, SCOPES.same)).toEqual(onA)
    expect(await summaryOf(engineBRaw, SCOPES.same)).toEqual(onB)

    const runs = await runsOf(repo, SCOPES.same, results)
    expect(runs.map((d) => `${d.run.host} ${d.run.status}`).sort()).toEqual([
      "a succeeded",
      "a succeeded",
      "b succeeded",
      "b succeeded"
    ])
    expect(overlapsOnOneHost(runs)).toEqual([])
    const counts = doneCounts(runs)
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([])
    const created = [...counts.keys()].filter((k) => k.includes(" create ")).sort()
    expect(created).toEqual(apps.flatMap((x) => (x.hosts ?? []).map((h) => `${h} create ${x.name}/web`)).sort())
    for (const d of runs) expect(d.actions.every((x) => x.outcome !== "failed")).toBe(true)
  })

  it("two `moor apply` processes whose specs split the hosts work at the same time", async () => {
    const repo = freshPgRepo()
    const env = cliEnv(repo)
    // Each pass lasts at least a few seconds: a one-shot job the web service waits for.
    const slow = (n: string, host: string): FleetApp => ({
      name: `fr${tok}${n}`,
      hosts: [host],
      services: {
        job: { command: ["sleep", "10"], restart: "no", noHealthcheck: true },
        web: { dependsOn: { job: "service_completed_successfully" } }
      }
    })
    const scope = SCOPES.split
    const dirA = writeSpec(tempDir("split-a"), { scope, hosts: [hostA()], apps: [slow("pa", "a")] })
    const dirB = writeSpec(tempDir("split-b"), { scope, hosts: [hostB()], apps: [slow("pb", "b")] })
    const results = await Promise.all([moor(env, "apply", dirA), moor(env, "apply", dirB)])
    for (const r of results) {
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
    }
    const runs = await runsOf(repo, scope, results)
    expect(runs.map((d) => `${d.run.host} ${d.run.status}`).sort()).toEqual(["a succeeded", "b succeeded"])
    const [x, y] = runs
    expect(x?.run.finishedAt).toBeDefined()
    expect(y?.run.finishedAt).toBeDefined()
    // The two runs overlap: each started before the other finished.
    expect(x!.run.startedAt).toBeLessThan(y!.run.finishedAt!)
    expect(y!.run.startedAt).toBeLessThan(x!.run.finishedAt!)
    expect(await summaryOf(engineA, scope)).toEqual([`fr${tok}pa-job-1 exited`, `fr${tok}pa-web-1 running`])
    expect(await summaryOf(engineBRaw, scope)).toEqual([`fr${tok}pb-job-1 exited`, `fr${tok}pb-web-1 running`])
  })

  it("a host whose lease another runner holds is left alone in the pass, and said so; the others converge", async () => {
    const repo = freshPgRepo()
    const scope = SCOPES.busy
    const dir = writeSpec(tempDir("busy"), { scope, hosts: [hostA(), hostB()], apps: [app("busy", ["a", "b"])] })
    const loaded = await loadFleet(dir, repo)
    await withRepo(repo, (r) => r.acquireLease(scope, "b", "another-runner", 60_000))
    const pass = await fleetPass(loaded, { id: `${tok}-busy-1`, lease: { ttlMs: 60_000, waitMs: 500 } })
    expect(pass.runs.map((r) => `${r.host} ${r.status} ${r.error ?? ""}`.trim())).toEqual([
      "a succeeded",
      expect.stringMatching(
        /^b failed another moor \(another-runner\) is reconciling host b; its lease expires in \d+s$/
      )
    ])
    expect(await summaryOf(engineA, scope)).toEqual([`fr${tok}busy-web-1 running`])
    expect(await summaryOf(engineBRaw, scope)).toEqual([])
    // Only the run on a is recorded: b's belongs to the runner holding it.
    expect((await runsWithActions(repo, scope)).map((d) => d.run.id)).toEqual([`${tok}-busy-1-a`])

    await withRepo(repo, (r) => r.releaseLease(scope, "b", "another-runner"))
    const next = await fleetPass(loaded, { id: `${tok}-busy-2` })
    expect(runStatuses(next)).toEqual(["a succeeded", "b succeeded"])
    expect(await summaryOf(engineBRaw, scope)).toEqual([`fr${tok}busy-web-1 running`])
  })
})
