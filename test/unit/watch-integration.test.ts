/**
 * `runWatch` with the real reconcile pass on the in-memory engine, a memory repo and bus, on the
 * TestClock: it converges at once, heals a killed container within the debounce (long before the
 * interval), picks up a spec edited on disk at the next tick, leaves everything alone while the
 * spec is broken, backs off while the engine is away, beats on the bus and records its passes in the
 * process's `Heartbeat`. The spec is dated back as it is written (see ../support/settled.ts): the
 * loader's wait for files that just changed is real time, and this loop runs on the TestClock.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../../adapters/bus/Bus.ts"
import type { MoorEvent } from "../../adapters/bus/events.ts"
import { Docker, type DockerShape } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { makePolicy } from "../../core/model/policy.ts"
import type { GlobalFlags } from "../../runners/cli/context.ts"
import { Heartbeat } from "../../runners/http/heartbeat.ts"
import { makeSpecCache } from "../../runners/watch/spec-cache.ts"
import { runWatch } from "../../runners/watch/watch.ts"
import { settleTree } from "../support/settled.ts"

const SCOPE = "watch-int"
const INTERVAL = 30_000
const flags: GlobalFlags = {
  scope: Option.none(),
  dockerHost: Option.none(),
  repo: Option.some("memory"),
  json: false,
  quiet: true
}

const root = mkdtempSync(join(tmpdir(), "moor-watch-int-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const writeSpec = (image: string) => {
  mkdirSync(join(root, "wia"), { recursive: true })
  writeFileSync(join(root, "moor.yaml"), `scope: ${SCOPE}\n`)
  writeFileSync(
    join(root, "wia", "compose.yaml"),
    `services:\n  web:\n    image: ${image}\n    restart: unless-stopped\n`
  )
  settleTree(root)
}

/** Real time for the work that is not on the clock (SQLite, streams), without moving the TestClock. */
const settle = TestClock.withLive(Effect.sleep("30 millis"))

/** Waits (in real time, at most 3 s) until `check` holds, without moving the TestClock. */
const until = <A, R>(what: string, check: Effect.Effect<A | undefined, never, R>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100; i++) {
      const a = yield* check
      if (a !== undefined) return a
      yield* settle
    }
    return yield* Effect.die(new Error(`timed out waiting until ${what}`))
  })

const web = Effect.gen(function* () {
  const engine = yield* MemoryEngine
  const snap = yield* engine.snapshot("local")
  return snap.containers.find((c) => c.name === "wia-web-1")
})
const webRunning = (image: string) =>
  Effect.map(web, (c) => (c !== undefined && c.state === "running" && c.image === image ? c : undefined))

const layers = Layer.mergeAll(DockerMemory.layer(), Repo.layerMemory, Bus.layerMemory, Heartbeat.layer)

describe("watch with the real pass", () => {
  it.effect("converges, heals a kill within the debounce, follows spec edits, skips a broken spec, beats", () =>
    Effect.gen(function* () {
      writeSpec("moor-fixture/app:1")
      const docker = yield* Docker
      const engine = yield* MemoryEngine
      const bus = yield* Bus
      const heartbeat = yield* Heartbeat
      const beats: Array<MoorEvent> = []
      const events = yield* bus.subscribe(`moor.${SCOPE}.heartbeat`)
      yield* Effect.forkChild(Stream.runForEach(events, (e) => Effect.sync(() => beats.push(e))))

      const fiber = yield* Effect.forkChild(
        runWatch({
          spec: makeSpecCache(root, flags),
          policy: makePolicy(),
          intervalMs: INTERVAL,
          holder: "watch-test",
          dockerFor: () => Effect.succeed(docker)
        })
      )
      // The first pass, at once.
      const first = yield* until("web runs", webRunning("moor-fixture/app:1"))
      const lastPass = yield* until("the pass is recorded", heartbeat.last)
      assert.strictEqual(lastPass.outcome, "succeeded")
      assert.strictEqual(lastPass.trigger, "watch")
      const runId = lastPass.runs[0]?.id ?? ""
      assert.strictEqual(runId, `${lastPass.passId}-local`)
      yield* until(
        "its beat on the bus",
        Effect.sync(() => beats.find((b) => b.type === "heartbeat" && b.lastPass?.runId === runId))
      )

      // Killed: back after the debounce, long before the interval.
      yield* TestClock.adjust(5000)
      yield* engine.kill("local", "wia-web-1")
      yield* settle
      assert.strictEqual((yield* web)?.state, "exited")
      yield* TestClock.adjust(250)
      const healed = yield* until("web runs again", webRunning("moor-fixture/app:1"))
      assert.strictEqual(healed.id, first.id, "started again, not replaced")

      // The spec changes on disk: the next tick replaces the container.
      writeSpec("moor-fixture/app:2")
      yield* TestClock.adjust(INTERVAL)
      yield* until("web runs app:2", webRunning("moor-fixture/app:2"))

      // A broken spec: nothing is changed, the loop goes on (a beat, no new pass recorded).
      writeFileSync(join(root, "moor.yaml"), "scope: [broken\n")
      settleTree(root)
      const before = yield* heartbeat.last
      const beatsBefore = beats.length
      yield* engine.kill("local", "wia-web-1")
      yield* TestClock.adjust(250)
      yield* until(
        "a beat after the skipped pass",
        Effect.sync(() => (beats.length > beatsBefore ? true : undefined))
      )
      yield* settle
      assert.strictEqual((yield* web)?.state, "exited", "left alone while the spec is broken")
      assert.strictEqual((yield* heartbeat.last)?.passId, before?.passId, "no pass ran")
      const beat = beats.at(-1)
      assert.strictEqual(
        beat?.type === "heartbeat" ? beat.lastPass?.runId : undefined,
        `${before?.passId}-local`,
        "the beat still names the last pass that ran"
      )

      // Fixed: the next pass heals.
      writeFileSync(join(root, "moor.yaml"), `scope: ${SCOPE}\n`)
      settleTree(root)
      yield* TestClock.adjust(INTERVAL)
      yield* until("web runs after the fix", webRunning("moor-fixture/app:2"))
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(layers))
  )

  it.effect("a container that died while the engine still lists it running is healed by the pass its event wakes", () =>
    Effect.gen(function* () {
      writeSpec("moor-fixture/app:1")
      const docker = yield* Docker
      const engine = yield* MemoryEngine
      // Like the real engine for a moment after a die event: the list still says running.
      let lagging = 0
      const laggingDocker: DockerShape = {
        ...docker,
        observe: (host, scope) =>
          Effect.map(docker.observe(host, scope), (h) => {
            if (lagging === 0 || h._tag !== "Known") return h
            lagging--
            const containers = h.containers.map((c) =>
              c.name === "wia-web-1" ? { ...c, state: "running" as const, health: "healthy" as const } : c
            )
            return { ...h, containers }
          })
      }
      const fiber = yield* Effect.forkChild(
        runWatch({
          spec: makeSpecCache(root, flags),
          policy: makePolicy(),
          intervalMs: INTERVAL,
          holder: "watch-test",
          dockerFor: () => Effect.succeed(laggingDocker)
        })
      )
      const first = yield* until("web runs", webRunning("moor-fixture/app:1"))
      yield* TestClock.adjust(5000)
      yield* settle
      lagging = 1
      yield* engine.kill("local", "wia-web-1")
      yield* settle
      yield* TestClock.adjust(250)
      // The pass woken by the die event: the list says running, the inspect says exited.
      const healed = yield* until("web runs again", webRunning("moor-fixture/app:1"))
      assert.strictEqual(healed.id, first.id)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(layers))
  )

  it.effect("an unreachable engine is retried with backoff, and healed as soon as it answers", () =>
    Effect.gen(function* () {
      writeSpec("moor-fixture/app:1")
      const docker = yield* Docker
      const engine = yield* MemoryEngine
      const heartbeat = yield* Heartbeat
      const fiber = yield* Effect.forkChild(
        runWatch({
          spec: makeSpecCache(root, flags),
          policy: makePolicy(),
          intervalMs: INTERVAL,
          retryBaseMs: 1000,
          holder: "watch-test",
          dockerFor: () => Effect.succeed(docker)
        })
      )
      yield* until("web runs", webRunning("moor-fixture/app:1"))
      yield* until("the first pass is recorded", heartbeat.last)
      yield* TestClock.adjust(2000)
      // The host goes away: its event stream breaks, which asks for a pass; that pass finds the
      // host unknown, and the loop retries after 1 s, then 2 s more, and so on.
      yield* engine.setReachable("local", false)
      yield* settle
      yield* TestClock.adjust(250)
      yield* until(
        "a failed pass",
        Effect.map(heartbeat.last, (p) => (p?.outcome === "failed" ? p : undefined))
      )
      const observes = Effect.map(engine.calls("local"), (c) => c["containers.list"] ?? 0)
      const step = (ms: number) => Effect.andThen(TestClock.adjust(ms), settle)
      const afterFailure = yield* observes
      yield* step(999)
      assert.strictEqual(yield* observes, afterFailure, "not retried before 1 s")
      yield* step(1)
      assert.strictEqual(yield* observes, afterFailure + 1, "retried after 1 s")
      yield* step(1999)
      assert.strictEqual(yield* observes, afterFailure + 1, "not before 2 s more")
      yield* step(1)
      assert.strictEqual(yield* observes, afterFailure + 2, "retried after 2 s more")

      // Back, with the container gone meanwhile: the next retry (4 s) recreates it.
      yield* engine.setReachable("local", true)
      yield* engine.remove("local", "wia-web-1")
      yield* step(4000)
      yield* until("web runs again", webRunning("moor-fixture/app:1"))
      yield* until(
        "a succeeded pass",
        Effect.map(heartbeat.last, (p) => (p?.outcome === "succeeded" ? p : undefined))
      )
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(layers))
  )
})
