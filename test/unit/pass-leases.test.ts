/**
 * A pass takes each host's lease: a dead runner of this machine (killed with -9) does not block the
 * next pass for its lease's TTL; a live one, or one on another machine, does (until the wait is over).
 * Then the engine's own lock, which keeps out runners that record to another repository.
 */
import { spawn } from "node:child_process"
import { hostname } from "node:os"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { acquireLeases, ENGINE_LOCK_MIN_MS, holderIsGone, releaseLeases } from "../../runners/pass/leases.ts"

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
    }).pipe(Effect.provide(Layer.merge(Repo.layerMemory, DockerMemory.layer())))
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
    }).pipe(Effect.provide(Layer.merge(Repo.layerMemory, DockerMemory.layer())))
  )
})

/** A runner with a repository of its own (a SQLite file of its own) on the shared engine. */
const ownRepo = <A, E>(self: Effect.Effect<A, E, Repo | Docker>) =>
  self.pipe(Effect.provide(Repo.layerSqlite(":memory:")))
const LEASE = { ttlMs: 60_000, waitMs: 300 }

describe("the engine lock", () => {
  it.live(
    "a runner on another repository finds the engine locked and leaves the host alone, until it is released",
    () =>
      Effect.gen(function* () {
        const first = yield* ownRepo(acquireLeases("s", ["local"], "host-a:1:first", LEASE))
        expect(first.held).toEqual(["local"])
        const second = yield* ownRepo(acquireLeases("s", ["local"], "host-b:2:second", LEASE))
        expect(second.held).toEqual([])
        expect(second.busy.get("local")).toMatch(
          /^another moor \(host-a:1:first\) holds the engine lock of scope s on host local; it expires in \d+s$/
        )
        // Its repo lease was given back: a runner on its repository is not kept out by a host it left alone.
        yield* ownRepo(releaseLeases("s", first.held, "host-a:1:first", first.locks))
        const third = yield* ownRepo(acquireLeases("s", ["local"], "host-b:2:second", LEASE))
        expect(third.held).toEqual(["local"])
        // Other scopes on the same engine have locks of their own.
        const other = yield* ownRepo(acquireLeases("t", ["local"], "host-a:1:first", LEASE))
        expect(other.held).toEqual(["local"])
      }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("the engine lock of a runner killed with -9 on this machine is taken over at once", () =>
    Effect.gen(function* () {
      const dead = `${hostname()}:${yield* Effect.promise(deadPid)}:x1`
      yield* ownRepo(acquireLeases("s", ["local"], dead, LEASE))
      const t0 = Date.now()
      const leases = yield* ownRepo(acquireLeases("s", ["local"], "me", { ttlMs: 60_000, waitMs: 30_000 }))
      expect(Date.now() - t0).toBeLessThan(2000)
      expect(leases.held).toEqual(["local"])
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("the lock an earlier pass of this process left (its engine went away) is taken over at once", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const now = Date.now()
      const earlier = `${hostname()}:${process.pid}:earlier`
      yield* docker.lock("local", { scope: "s", holder: earlier, now, expiresAt: now + 600_000 })
      const leases = yield* ownRepo(acquireLeases("s", ["local"], `${hostname()}:${process.pid}:later`, LEASE))
      expect(leases.held).toEqual(["local"])
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("an expired engine lock is taken over; a live one lasts at least ENGINE_LOCK_MIN_MS", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const now = Date.now()
      const stale = yield* docker.lock("local", { scope: "s", holder: "far:1:x", now, expiresAt: now - 1 })
      expect(stale._tag).toBe("Locked")
      const leases = yield* ownRepo(acquireLeases("s", ["local"], "me", LEASE))
      expect(leases.held).toEqual(["local"])
      const seen = yield* docker.lock("local", { scope: "s", holder: "other", now: Date.now(), expiresAt: 0 })
      expect(seen._tag).toBe("Held")
      if (seen._tag === "Held") {
        expect(seen.holder).toBe("me")
        expect(seen.expiresAt).toBeGreaterThanOrEqual(now + ENGINE_LOCK_MIN_MS)
      }
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("an engine that does not answer gives no lock and no refusal: the pass finds it unreachable", () =>
    Effect.gen(function* () {
      yield* MemoryEngine.use((e) => e.setReachable("local", false))
      const leases = yield* ownRepo(acquireLeases("s", ["local"], "me", LEASE))
      expect(leases.held).toEqual(["local"])
      expect(leases.locks.size).toBe(0)
    }).pipe(Effect.provide(DockerMemory.layer()))
  )
})
