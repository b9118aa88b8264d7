/**
 * A pass takes each host's lease: a dead runner of this machine (killed with -9) does not block the
 * next pass for its lease's TTL; a live one, or one on another machine, does (until the wait is over).
 * Then, before it acts, the engine's own lock, which keeps out runners that record to another repository.
 */
import { spawn } from "node:child_process"
import { hostname } from "node:os"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { ENGINE_LOCK_MIN_MS } from "../../runners/pass/engine-lock.ts"
import { holdHosts } from "../../runners/pass/hold.ts"
import { holderIdOf, holderIsGone, isThisProcess, processKey } from "../../runners/pass/holder.ts"
import { acquireLeases, type LeaseOptions } from "../../runners/pass/leases.ts"

/** The holder id a process of this machine had (`machine:pid:token:key`), once that process has exited. */
const deadHolder = (token: string): Promise<string> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 200)"])
    child.on("spawn", () => {
      const holder = `${hostname()}:${child.pid}:${token}:${processKey(child.pid!)}`
      child.on("exit", () => resolve(holder))
    })
  })

/** `key` with one of its parts (boot, PID namespace, start time) replaced. */
const withPart = (key: string, index: 0 | 1 | 2, value: string): string =>
  key
    .split(".")
    .map((p, i) => (i === index ? value : p))
    .join(".")

describe("leases of dead runners", () => {
  it("a holder on this machine whose process is gone is dead; a live one, another machine's, or a foreign id is not", async () => {
    const dead = await deadHolder("abcd")
    const [, pid] = dead.split(":")
    const parent = `${hostname()}:${process.ppid}:abcd:${processKey(process.ppid)}`
    expect(holderIsGone(dead)).toBe(true)
    expect(holderIsGone(holderIdOf("abcd"))).toBe(false)
    expect(holderIsGone(parent)).toBe(false)
    expect(holderIsGone(`another-machine:${pid}:abcd:${withPart(dead.split(":")[3]!, 0, "0123456789ab")}`)).toBe(false)
    expect(holderIsGone("some holder")).toBe(false)
  })

  it("the same hostname and PID in another PID namespace is another holder; a reused PID is a gone one", () => {
    const key = processKey(process.pid)!
    expect(key).toMatch(/^[0-9a-f]{12}\.\d+\.\d+$/)
    const me = holderIdOf("tok")
    expect(me).toBe(`${hostname()}:${process.pid}:tok:${key}`)
    expect(isThisProcess(me)).toBe(true)
    // A runner that is PID ${process.pid} too, in a container of its own on this kernel: not this
    // process, and not judged from here (its processes cannot be seen), so not gone.
    const twin = `${hostname()}:${process.pid}:tok:${withPart(key, 1, "4026599999")}`
    expect(isThisProcess(twin)).toBe(false)
    expect(holderIsGone(twin)).toBe(false)
    // Before a reboot (another boot id): not judged either.
    expect(holderIsGone(`${hostname()}:${process.ppid}:tok:${withPart(key, 0, "0123456789ab")}`)).toBe(false)
    // Our parent's PID, but a process started at another time: that holder is gone, its PID reused.
    const parentKey = processKey(process.ppid)!
    const reused = `${hostname()}:${process.ppid}:tok:${withPart(parentKey, 2, String(Number(parentKey.split(".")[2]) + 1))}`
    expect(holderIsGone(reused)).toBe(true)
    // Hostname and PID alone (no key) say nothing on a machine with PID namespaces.
    expect(isThisProcess(`${hostname()}:${process.pid}:tok`)).toBe(false)
  })

  it.live("the lease of a runner killed with -9 is taken over at once and its run marked abandoned", () =>
    Effect.gen(function* () {
      const repo = yield* Repo
      const dead = yield* Effect.promise(() => deadHolder("x1"))
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

/**
 * What a pass that has something to do on `hosts` holds there: their leases, then their engine locks
 * (until `release`, the end of the pass).
 */
const acquireHosts = (scope: string, hosts: ReadonlyArray<string>, holder: string, options: LeaseOptions) =>
  Effect.gen(function* () {
    const passScope = yield* Scope.make()
    const leases = yield* acquireLeases(scope, hosts, holder, options)
    const hold = yield* holdHosts(scope, leases, holder, options).pipe(Scope.provide(passScope))
    yield* hold.lock(leases.held)
    return {
      held: leases.held.filter((h) => !hold.leftAlone.has(h)),
      busy: hold.leftAlone,
      hold,
      release: Scope.close(passScope, Exit.void)
    }
  })

describe("the engine lock", () => {
  it.live(
    "a runner on another repository finds the engine locked and leaves the host alone, until it is released",
    () =>
      Effect.gen(function* () {
        const first = yield* ownRepo(acquireHosts("s", ["local"], "host-a:1:first", LEASE))
        expect(first.held).toEqual(["local"])
        const second = yield* ownRepo(acquireHosts("s", ["local"], "host-b:2:second", LEASE))
        expect(second.held).toEqual([])
        expect(second.busy.get("local")).toMatch(
          /^another moor \(host-a:1:first\) holds the engine lock of scope s on host local; it expires in \d+s$/
        )
        // Its repo lease was given back: a runner on its repository is not kept out by a host it left alone.
        yield* first.release
        const third = yield* ownRepo(acquireHosts("s", ["local"], "host-b:2:second", LEASE))
        expect(third.held).toEqual(["local"])
        // Other scopes on the same engine have locks of their own.
        const other = yield* ownRepo(acquireHosts("t", ["local"], "host-a:1:first", LEASE))
        expect(other.held).toEqual(["local"])
      }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("the engine lock of a runner killed with -9 on this machine is taken over at once", () =>
    Effect.gen(function* () {
      const dead = yield* Effect.promise(() => deadHolder("x1"))
      yield* ownRepo(acquireHosts("s", ["local"], dead, LEASE))
      const t0 = Date.now()
      const leases = yield* ownRepo(acquireHosts("s", ["local"], "me", { ttlMs: 60_000, waitMs: 30_000 }))
      expect(Date.now() - t0).toBeLessThan(2000)
      expect(leases.held).toEqual(["local"])
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("the lock an earlier pass of this process left (its engine went away) is taken over at once", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const now = Date.now()
      const earlier = holderIdOf("earlier")
      yield* docker.lock("local", { scope: "s", holder: earlier, now, expiresAt: now + 600_000 })
      const leases = yield* ownRepo(acquireHosts("s", ["local"], holderIdOf("later"), LEASE))
      expect(leases.held).toEqual(["local"])
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("an expired engine lock is taken over; a live one lasts at least ENGINE_LOCK_MIN_MS", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const now = Date.now()
      const stale = yield* docker.lock("local", { scope: "s", holder: "far:1:x", now, expiresAt: now - 1 })
      expect(stale._tag).toBe("Locked")
      const leases = yield* ownRepo(acquireHosts("s", ["local"], "me", LEASE))
      expect(leases.held).toEqual(["local"])
      const seen = yield* docker.lock("local", { scope: "s", holder: "other", now: Date.now(), expiresAt: 0 })
      expect(seen._tag).toBe("Held")
      if (seen._tag === "Held") {
        expect(seen.holder).toBe("me")
        expect(seen.expiresAt).toBeGreaterThanOrEqual(now + ENGINE_LOCK_MIN_MS)
      }
    }).pipe(Effect.provide(DockerMemory.layer()))
  )

  it.live("an engine that does not answer when its lock is taken gives no lock: the host is left alone", () =>
    Effect.gen(function* () {
      yield* MemoryEngine.use((e) => e.setReachable("local", false))
      const leases = yield* ownRepo(acquireHosts("s", ["local"], "me", LEASE))
      expect(leases.held).toEqual([])
      expect(leases.busy.get("local")).toMatch(
        /^could not take the engine lock on host local, so nothing on it was changed: .*did not answer/
      )
      expect(yield* leases.hold.fence("local")).toMatch(/^not started: this runner does not hold the engine lock/)
    }).pipe(Effect.provide(DockerMemory.layer()))
  )
})
