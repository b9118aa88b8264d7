/**
 * Races between runners on the real engine (engine A): the cases of test/support/race-cases.ts give
 * the same outcomes as on the in-memory engine; networks created by several runners at the same
 * moment end as one network (Docker 20.10 makes one per create: moor folds them); `moor down` of an
 * app another runner has just taken down is done. Every case has its own random scope.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { DockerMemory } from "../../adapters/docker/memory.ts"
import { baseConfig, cleanupScope, freePort, newScope, raw, requireFixtures } from "../support/docker-e2e.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import { removeTempDirs, tempDir, writeSpec } from "../support/fleet-spec.ts"
import { raceCases, runRaceCase } from "../support/race-cases.ts"

const base = newScope()
const p = `q${randomBytes(3).toString("hex")}`
const scopes: Array<string> = []
const live = DockerLive.layer([{ name: "local" }])

beforeAll(() => requireFixtures())
afterAll(async () => {
  removeTempDirs()
  for (const s of scopes) await cleanupScope(`${s}-other`)
  for (const s of scopes) await cleanupScope(s)
})

const networksNamed = async (name: string) =>
  (await raw.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name)

describe("races between runners, on the real engine", () => {
  for (const [i, c] of raceCases.entries()) {
    it.live(`${c.name}: as on the in-memory engine`, () =>
      Effect.gen(function* () {
        const scope = `${base}-${i}`
        scopes.push(scope)
        const port = yield* Effect.promise(freePort)
        const real = yield* runRaceCase(c, p, scope, port).pipe(Effect.provide(live))
        const memory = yield* runRaceCase(c, p, scope, port).pipe(Effect.provide(DockerMemory.layer()))
        expect(real).toEqual(c.expect)
        expect(memory).toEqual(real)
      })
    )
  }

  it.live("networks created by several runners at the same moment end as one; every create is done or a conflict", () =>
    Effect.gen(function* () {
      const scope = `${base}-net`
      scopes.push(scope)
      const name = `${scope}_default`
      const docker = yield* Docker
      const results = yield* Effect.forEach(
        Array.from({ length: 6 }, () => 0),
        () => Effect.result(docker.createNetwork("local", { name, labels: { "moor.scope": scope } })),
        { concurrency: "unbounded" }
      )
      const kinds = results.map((r) => (Result.isSuccess(r) ? "ok" : r.failure.kind))
      expect(kinds.filter((k) => k !== "ok" && k !== "conflict")).toEqual([])
      expect(kinds).toContain("ok")
      expect(yield* Effect.promise(() => networksNamed(name))).toHaveLength(1)
    }).pipe(Effect.provide(live))
  )

  it.live(
    "duplicate networks moor made for one scope (an older moor, another runner) are folded when a container starts on one, or when it is removed",
    () =>
      Effect.gen(function* () {
        const scope = `${base}-dup`
        scopes.push(scope)
        const name = `${scope}_net`
        const labels = { "moor.scope": scope }
        // What two runners racing did before moor folded duplicates: two networks of one name (made
        // here without CheckDuplicate, which on API 1.41 only makes the race less likely).
        yield* Effect.promise(() =>
          Promise.all([1, 2].map(() => raw.createNetwork({ Name: name, CheckDuplicate: false, Labels: labels })))
        )
        expect(yield* Effect.promise(() => networksNamed(name))).toHaveLength(2)
        const docker = yield* Docker
        yield* docker.createContainer("local", {
          ...baseConfig(scope, `${scope}-c`, "moor-fixture/app:1"),
          networks: [{ name, aliases: [] }]
        })
        yield* docker.startContainer("local", `${scope}-c`)
        expect(yield* Effect.promise(() => networksNamed(name))).toHaveLength(1)
        yield* docker.removeContainer("local", `${scope}-c`)
        yield* Effect.promise(() => raw.createNetwork({ Name: name, CheckDuplicate: false, Labels: labels }))
        yield* docker.removeNetwork("local", name)
        expect(yield* Effect.promise(() => networksNamed(name))).toHaveLength(0)
        // Duplicates that are not all moor's for one scope are left alone, and the error says what to do.
        yield* Effect.promise(() =>
          Promise.all([
            raw.createNetwork({ Name: name, CheckDuplicate: false, Labels: labels }),
            raw.createNetwork({ Name: name, CheckDuplicate: false, Labels: { "moor.scope": `${scope}-other` } })
          ])
        )
        const refused = yield* Effect.result(docker.removeNetwork("local", name))
        if (Result.isSuccess(refused)) throw new Error("expected the removal to be refused")
        expect(refused.failure.message).toMatch(
          /is ambiguous .*several networks have that name, and they are not duplicates moor may fold .*: keep one \(docker network ls --filter name=/
        )
        expect(yield* Effect.promise(() => networksNamed(name))).toHaveLength(2)
      }).pipe(Effect.provide(live))
  )

  it("moor down of an app another runner has just taken down: done, exit 0, says so; an app not in the spec is an error", async () => {
    const scope = `${base}-down`
    scopes.push(scope)
    const app = `${p}d`
    const dir = writeSpec(tempDir("races-down"), {
      scope,
      hosts: [{ name: "local", engine: "unix:///var/run/docker.sock" }],
      apps: [{ name: app, services: { web: { noHealthcheck: true } } }]
    })
    const env = cliEnv("memory")
    expect((await moor(env, "apply", dir)).code).toBe(0)
    const first = await moor(env, "down", app, dir)
    expect(first.code).toBe(0)
    expect(first.stdout).toContain(`${app} is down (volumes kept; --volumes removes them).`)
    // Another runner's down a moment before: this one finds nothing to do, which is what was asked.
    const second = await moor(env, "down", app, dir)
    expect(second.code).toBe(0)
    expect(second.stdout.trim()).toBe(
      `${app} is already down: nothing of it is on the hosts of ${dir} (scope ${scope}).`
    )
    const typo = await moor(env, "down", `${app}x`, dir)
    expect(typo.code).toBe(1)
    expect(typo.stderr).toContain(`app ${app}x is not in the spec at ${dir}, and nothing of it is on its hosts`)
  })
})
