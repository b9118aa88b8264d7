/**
 * What each real engine says of itself reaches the observation: engine A (Docker 20.10, API 1.41)
 * and the current engine (Docker 26, API 1.45). `GET /version` is asked once per connection (counted
 * on the wire by a proxy in front of the engine's socket), and again once a host that went away is back.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ObservedHost } from "../../core/model/observed.ts"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { type CountingProxy, startCountingProxy } from "../support/docker-counting-proxy.ts"
import { newScope, requireFixtures, testEngines } from "../support/docker-e2e.ts"

const scope = newScope()
const dir = mkdtempSync(join(tmpdir(), "moor-engines-"))
beforeAll(async () => {
  for (const engine of testEngines) await requireFixtures(engine)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const self = (h: ObservedHost) =>
  h._tag === "Known" ? { engineVersion: h.engineVersion, apiVersion: h.apiVersion } : { unreachable: h.reason }

describe("DockerLive: each engine's version in the observation", () => {
  for (const [i, engine] of testEngines.entries()) {
    it.live(`${engine.label}: its version and API version, asked once per connection and again after it was away`, () =>
      Effect.gen(function* () {
        const reported = yield* Effect.promise(() => engine.raw.version())
        const at = join(dir, `engine-${i}.sock`)
        let proxy: CountingProxy = yield* Effect.promise(() => startCountingProxy(engine.socketPath, at))
        const versionCalls = () => proxy.requests().filter((r) => r === "GET /version").length
        yield* Effect.gen(function* () {
          const docker = yield* Docker
          const first = yield* docker.observe("h", scope)
          expect(self(first)).toEqual({ engineVersion: reported.Version, apiVersion: reported.ApiVersion })
          yield* docker.observe("h", scope)
          yield* docker.observe("h", scope)
          expect(versionCalls()).toBe(1)

          yield* Effect.promise(() => proxy.close())
          expect((yield* docker.observe("h", scope))._tag).toBe("Unreachable")
          proxy = yield* Effect.promise(() => startCountingProxy(engine.socketPath, at))
          expect(self(yield* docker.observe("h", scope))).toEqual(self(first))
          expect(versionCalls()).toBe(1)
        }).pipe(
          Effect.provide(DockerLive.layer([{ name: "h", endpoint: `unix://${at}` }])),
          Effect.ensuring(Effect.promise(() => proxy.close()))
        )
      })
    )
  }
})
