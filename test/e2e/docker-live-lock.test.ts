/**
 * The engine lock on the real engine: of many runners creating it at once exactly one gets it (the
 * engine's container names are unique); it is taken again by its holder, taken over once expired,
 * released by id; its empty image is imported when missing; a container of its name that moor did
 * not make is never touched; and no pass sees the lock among the scope's containers. On engine A
 * (Docker 20.10) and on the current engine (Docker 26).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Docker, type EngineLock } from "../../adapters/docker/Docker.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { LOCK_IMAGE, lockName } from "../../adapters/docker/lock.ts"
import { cleanupScope, newScope, oneAtATime, requireFixtures, testEngines } from "../support/docker-e2e.ts"

const scope = newScope()
const foreignScope = newScope()

beforeAll(async () => {
  for (const engine of testEngines) await requireFixtures(engine)
})
afterAll(async () => {
  for (const engine of testEngines) {
    await cleanupScope(scope, engine)
    await engine.raw
      .getContainer(lockName(foreignScope))
      .remove({ force: true })
      .catch(() => undefined)
  }
})

describe.concurrent.each(testEngines)("the engine lock on $label", (engine) => {
  const raw = engine.raw
  const live = DockerLive.layer([{ name: "local", endpoint: engine.endpoint }])
  const exists = (name: string) =>
    Effect.promise(() =>
      raw
        .getContainer(name)
        .inspect()
        .then((c) => c.Id)
        .catch(() => undefined)
    )

  it.live(
    "one of eight runners at once gets it; the holder again, an expired lock taken over, release by id",
    () =>
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
      }).pipe(Effect.provide(live)),
    oneAtATime
  )

  it.live(
    "a container of the lock's name that moor did not make holds the scope and is never touched",
    () =>
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
      }).pipe(Effect.provide(live)),
    oneAtATime
  )
})
