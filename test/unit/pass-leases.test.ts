/**
 * A pass takes each host's lease: a dead runner of this machine (killed with -9) does not block the
 * next pass for its lease's TTL; a live one, or one on another machine, does (until the wait is over).
 */
import { spawn } from "node:child_process"
import { hostname } from "node:os"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Repo } from "../../adapters/repo/Repo.ts"
import { acquireLeases, holderIsGone } from "../../runners/pass/leases.ts"

const deadPid = (): Promise<number> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", "0"])
    child.on("exit", () => resolve(child.pid!))
  })

describe("leases of dead runners", () => {
  it("a holder on this machine whose process is gone is dead; a live one, another machine's, or a foreign id is not", async () => {
    const pid = await deadPid()
    expect(holderIsGone(`${hostname()}:${pid}:abcd`)).toBe(true)
    expect(holderIsGone(`${hostname()}:${process.pid}:abcd`)).toBe(false)
    expect(holderIsGone(`${hostname()}:${process.ppid}:abcd`)).toBe(false)
    expect(holderIsGone(`another-machine:${pid}:abcd`)).toBe(false)
    expect(holderIsGone("some holder")).toBe(false)
  })

  it.live("the lease of a runner killed with -9 is taken over at once and its run marked abandoned", () =>
    Effect.gen(function* () {
      const repo = yield* Repo
      const dead = `${hostname()}:${yield* Effect.promise(deadPid)}:x1`
      yield* repo.acquireLease("s", "local", dead, 600_000)
      yield* repo.createRun({
        id: "r1-local",
        trigger: "cli",
        scope: "s",
        host: "local",
        holder: dead,
        status: "running",
        startedAt: 1
      })
      const t0 = Date.now()
      const leases = yield* acquireLeases("s", ["local"], "me", { ttlMs: 60_000, waitMs: 30_000 })
      expect(Date.now() - t0).toBeLessThan(2000)
      expect(leases.held).toEqual(["local"])
      expect(leases.abandoned).toEqual(["r1-local"])
      const run = yield* repo.getRun("r1-local")
      expect(run?.run.status).toBe("abandoned")
      expect(run?.run.error).toContain("is gone")
    }).pipe(Effect.provide(Repo.layerMemory))
  )

  it.live("a lease held by a live runner is waited for, then the host is left alone with a clear reason", () =>
    Effect.gen(function* () {
      const repo = yield* Repo
      yield* repo.acquireLease("s", "local", `${hostname()}:${process.ppid}:live`, 600_000)
      const leases = yield* acquireLeases("s", ["local"], "me", { ttlMs: 60_000, waitMs: 300 })
      expect(leases.held).toEqual([])
      expect(leases.busy.get("local")).toMatch(
        /^another moor \(.*:live\) is reconciling host local; its lease expires in \d+s$/
      )
    }).pipe(Effect.provide(Repo.layerMemory))
  )
})
