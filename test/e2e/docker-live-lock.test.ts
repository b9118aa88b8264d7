/**
 * The engine lock on the real engine: of many runners creating it at once exactly one gets it (the
 * engine's container names are unique), and every other one is told who holds it, never an error,
 * even when the engine does not show the winner's container yet or another runner is removing it;
 * it is taken again by its holder, taken over once expired, renewed without a free moment, released
 * by id; its empty image is imported when missing; a container of its name that moor did not make is
 * never touched; and no pass sees the lock among the scope's containers. A quiet pass never takes it.
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { Docker, type EngineLock } from "../../adapters/docker/Docker.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { LOCK_IMAGE, lockName, RENEWAL_OF } from "../../adapters/docker/lock.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { reconcilePass } from "../../runners/pass/pass.ts"
import { app, desired, svc } from "../support/core-fixtures.ts"
import { startCountingProxy } from "../support/docker-counting-proxy.ts"
import { cleanupScope, newScope, raw, requireFixtures } from "../support/docker-e2e.ts"
import { startFaultProxy } from "../support/fault-proxy.ts"

const scope = newScope()
const foreignScope = newScope()
const raceScope = newScope()
const renewScope = newScope()
const passScope = newScope()
/** The scopes of the rounds of eight runners. */
const roundScopes = Array.from({ length: 10 }, (_, round) => `${raceScope}-${round}`)

beforeAll(async () => {
  await requireFixtures()
})
afterAll(async () => {
  for (const s of [scope, raceScope, renewScope, passScope, ...roundScopes]) await cleanupScope(s)
  await raw
    .getContainer(lockName(foreignScope))
    .remove({ force: true })
    .catch(() => undefined)
})

const exists = (name: string) =>
  Effect.promise(() =>
    raw
      .getContainer(name)
      .inspect()
      .then((c) => c.Id)
      .catch(() => undefined)
  )

describe("the engine lock on a real engine", () => {
  it.live("one of eight runners at once gets it; the holder again, an expired lock taken over, release by id", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      // The image is imported on first use (when no lock of another scope is using it right now).
      yield* Effect.promise(() =>
        raw
          .getImage(LOCK_IMAGE)
          .remove()
          .catch(() => undefined)
      )
      const now = Date.now()
      const request = (holder: string, expiresAt = now + 60_000) => ({ scope, holder, now, expiresAt })
      const results = yield* Effect.all(
        Array.from({ length: 8 }, (_, i) => docker.lock("local", request(`runner-${i}`))),
        { concurrency: "unbounded" }
      )
      const locked = results.filter((r): r is Extract<EngineLock, { _tag: "Locked" }> => r._tag === "Locked")
      expect(locked).toHaveLength(1)
      const winner = `runner-${results.findIndex((r) => r._tag === "Locked")}`
      for (const r of results) if (r._tag === "Held") expect(r.holder).toBe(winner)
      expect(yield* exists(lockName(scope))).toBe(locked[0]?.id)

      // Its holder takes it again (a retry after a lost answer); nobody sees it as the scope's.
      expect(yield* docker.lock("local", request(winner))).toEqual(locked[0])
      const observed = yield* docker.observe("local", scope)
      expect(observed._tag === "Known" && observed.containers.length).toBe(0)

      // Released by id: the next runner gets a new one.
      yield* docker.unlock("local", locked[0]?.id ?? "")
      expect(yield* exists(lockName(scope))).toBeUndefined()
      const next = yield* docker.lock("local", request("runner-next", now - 1))
      expect(next._tag).toBe("Locked")

      // That one has expired: taken over, the old one removed.
      const takeover = yield* docker.lock("local", request("runner-late"))
      expect(takeover._tag).toBe("Locked")
      expect(takeover).not.toEqual(next)
      expect(yield* exists(lockName(scope))).toBe(takeover._tag === "Locked" ? takeover.id : "")
      yield* docker.unlock("local", takeover._tag === "Locked" ? takeover.id : "")
      // Releasing one already gone succeeds.
      yield* docker.unlock("local", takeover._tag === "Locked" ? takeover.id : "")
    }).pipe(Effect.provide(DockerLive.layer([{ name: "local" }])))
  )

  it.live("a container of the lock's name that moor did not make holds the scope and is never touched", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const id = yield* Effect.promise(() =>
        raw.createContainer({ name: lockName(foreignScope), Image: "moor-fixture/app:1" }).then((c) => c.id)
      )
      const now = Date.now()
      const r = yield* docker.lock("local", { scope: foreignScope, holder: "me", now, expiresAt: now + 60_000 })
      expect(r._tag).toBe("Held")
      if (r._tag === "Held") {
        expect(r.holder).toContain("that moor did not make")
        expect(r.expiresAt).toBe(Number.POSITIVE_INFINITY)
      }
      expect(yield* exists(lockName(foreignScope))).toBe(id)
    }).pipe(Effect.provide(DockerLive.layer([{ name: "local" }])))
  )

  it.live("eight runners at once, ten rounds over: each is told Locked or Held by the winner, never an error", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      for (const s of roundScopes) {
        const now = Date.now()
        const results = yield* Effect.all(
          Array.from({ length: 8 }, (_, i) =>
            docker.lock("local", { scope: s, holder: `runner-${i}`, now, expiresAt: now + 60_000 })
          ),
          { concurrency: "unbounded" }
        )
        const winners = results.filter((r) => r._tag === "Locked")
        expect(winners).toHaveLength(1)
        const winner = `runner-${results.findIndex((r) => r._tag === "Locked")}`
        for (const r of results) if (r._tag === "Held") expect(r.holder).toBe(winner)
        yield* docker.unlock("local", winners[0]?._tag === "Locked" ? winners[0].id : "")
      }
    }).pipe(Effect.provide(DockerLive.layer([{ name: "local" }])))
  )

  it.live(
    "the race replayed: a name in use by a container the engine does not show yet, a lock another runner is removing",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "moor-lock-race-"))
        const proxy = yield* Effect.acquireRelease(
          Effect.promise(() => startFaultProxy(join(dir, "docker.sock"), { share: 0, seed: 1 })),
          (p) =>
            Effect.promise(() => p.close()).pipe(Effect.andThen(Effect.sync(() => rmSync(dir, { recursive: true }))))
        )
        const docker = yield* Docker.pipe(
          Effect.provide(DockerLive.layer([{ name: "local" }, { name: "racy", endpoint: proxy.endpoint }]))
        )
        const now = Date.now()
        const request = (holder: string, expiresAt = now + 60_000) => ({ scope: raceScope, holder, now, expiresAt })
        const first = yield* docker.lock("local", request("runner-0"))
        expect(first._tag).toBe("Locked")
        // The engine reserves a name before it shows the container: the loser's create gets a 409,
        // then reading the lock gets a 404, for as long as the winner's create is under way.
        proxy.answer({
          method: "GET",
          path: new RegExp(`^/containers/${lockName(raceScope)}/json$`),
          status: 404,
          message: `No such container: ${lockName(raceScope)}`,
          times: 6
        })
        expect(yield* docker.lock("racy", request("runner-1"))).toEqual({
          _tag: "Held",
          holder: "runner-0",
          expiresAt: now + 60_000
        })
        expect(proxy.answered()).toBe(6)

        // An expired lock that another runner is removing at the same moment: its removal counts.
        yield* docker.unlock("local", first._tag === "Locked" ? first.id : "")
        const stale = yield* docker.lock("local", request("runner-old", now - 1))
        const staleId = stale._tag === "Locked" ? stale.id : ""
        proxy.answer({
          method: "DELETE",
          path: new RegExp(`^/containers/${staleId}$`),
          status: 409,
          message: `removal of container ${staleId} is already in progress`,
          times: 1
        })
        const late = yield* docker.lock("racy", request("runner-late"))
        expect(late._tag).toBe("Locked")
        expect(proxy.answered()).toBe(7)
        expect(yield* exists(lockName(raceScope))).toBe(late._tag === "Locked" ? late.id : "")
        yield* docker.unlock("local", late._tag === "Locked" ? late.id : "")
      }).pipe(Effect.scoped)
  )

  it.live(
    "a renewed lock is held until its renewal's expiry, with one renewal at a time; a lock taken over is lost",
    () =>
      Effect.gen(function* () {
        const docker = yield* Docker
        const renewals = (id: string) =>
          Effect.promise(() => raw.listContainers({ all: true, filters: { label: [`${RENEWAL_OF}=${id}`] } }))
        const now = Date.now()
        const mine = yield* docker.lock("local", { scope: renewScope, holder: "a", now, expiresAt: now + 60_000 })
        const id = mine._tag === "Locked" ? mine.id : ""
        const renewal = { scope: renewScope, holder: "a", id }
        expect(yield* docker.renewLock("local", { ...renewal, expiresAt: now + 120_000 })).toEqual({
          _tag: "Renewed",
          expiresAt: now + 120_000
        })
        expect(yield* docker.renewLock("local", { ...renewal, expiresAt: now + 150_000 })).toEqual({
          _tag: "Renewed",
          expiresAt: now + 150_000
        })
        expect(yield* renewals(id)).toHaveLength(1)
        // Past the lock's own expiry, another runner still finds it held, until the renewal's.
        const later = { scope: renewScope, holder: "b", now: now + 90_000, expiresAt: now + 200_000 }
        expect(yield* docker.lock("local", later)).toEqual({ _tag: "Held", holder: "a", expiresAt: now + 150_000 })
        // Once that has passed, it is taken over, renewals and all; the old holder's next renewal finds it lost.
        const taken = yield* docker.lock("local", { ...later, now: now + 150_000 })
        expect(taken._tag).toBe("Locked")
        expect(yield* renewals(id)).toHaveLength(0)
        expect(yield* docker.renewLock("local", { ...renewal, expiresAt: now + 300_000 })).toEqual({
          _tag: "Lost",
          holder: "b"
        })
        expect(yield* renewals(id)).toHaveLength(0)
        // Released with its renewals.
        const takenId = taken._tag === "Locked" ? taken.id : ""
        yield* docker.renewLock("local", { scope: renewScope, holder: "b", id: takenId, expiresAt: now + 400_000 })
        yield* docker.unlock("local", takenId)
        const left = yield* Effect.promise(() =>
          raw.listContainers({ all: true, filters: { label: [`moor.lock=${renewScope}`] } })
        )
        expect(left).toEqual([])
      }).pipe(Effect.provide(DockerLive.layer([{ name: "local" }])))
  )

  it.live(
    "a quiet pass only lists (4 calls, no write); a pass with work takes the lock before it acts and removes it",
    () =>
      Effect.gen(function* () {
        const counting = yield* Effect.acquireRelease(
          Effect.promise(() => startCountingProxy()),
          (p) => Effect.promise(() => p.close())
        )
        const name = `lk${randomBytes(3).toString("hex")}`
        const spec = desired([app(name, { web: svc("moor-fixture/app:1") })], { scope: passScope })
        const pass = (id: string) =>
          reconcilePass({
            id,
            trigger: "cli",
            desired: spec,
            policy: makePolicy(),
            hosts: ["local"],
            holder: "e2e-lock",
            lease: { ttlMs: 60_000, waitMs: 0 },
            settleMs: 30_000
          })
        const writes = () =>
          counting
            .requests()
            .filter((r) => !r.startsWith("GET "))
            .map((r) =>
              r.replace(/\/containers\/[^/]+\/start$/, "/containers/ID/start").replace(/^DELETE .*/, "DELETE")
            )
        yield* Effect.gen(function* () {
          expect((yield* pass("deploy")).runs).toMatchObject([{ status: "succeeded" }])
          counting.reset()
          const quiet = yield* pass("quiet")
          expect(quiet.runs).toMatchObject([{ status: "succeeded" }])
          expect([...counting.requests()].sort()).toEqual([
            "GET /containers/json",
            "GET /images/json",
            "GET /networks",
            "GET /volumes"
          ])

          yield* Effect.promise(() => raw.getContainer(`${name}-web-1`).kill())
          counting.reset()
          const heal = yield* pass("heal")
          expect(heal.runs).toMatchObject([{ status: "succeeded" }])
          // The lock (a create), the start, the lock's removal; the plan it acted on was made under the lock.
          expect(writes()).toEqual(["POST /containers/create", "POST /containers/ID/start", "DELETE"])
          const requests = counting.requests()
          const lockAt = requests.indexOf("POST /containers/create")
          expect(requests.slice(lockAt + 1).filter((r) => r === "GET /containers/json").length).toBeGreaterThanOrEqual(
            2
          )
          expect(yield* exists(lockName(passScope))).toBeUndefined()
        }).pipe(
          Effect.provide(
            Layer.mergeAll(
              DockerLive.layer([{ name: "local", endpoint: counting.endpoint }]),
              Repo.layerMemory,
              Bus.layerMemory
            )
          )
        )
      }).pipe(Effect.scoped)
  )
})
