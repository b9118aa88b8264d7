/**
 * The watch loop's scheduling, with a fake pass on the TestClock: when passes start, that they
 * never overlap, that requests coalesce, that failures and unreachable hosts do not stop the loop,
 * and that interrupting it lets the pass in flight finish.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { makeWatchLoop, type PassOutcome, type PassReport, retryDelay, type Trigger } from "../../runners/watch/loop.ts"

const INTERVAL = 30_000

interface Call {
  readonly trigger: Trigger
  readonly at: number
  finishedAt?: number
}

/** A loop over a fake pass that takes `passMs` and ends as `outcome(n)` says (n counts from 0). */
const harness = (options: {
  readonly passMs?: number
  readonly outcome?: (n: number) => PassOutcome | "die"
  readonly debounceMs?: number
}) =>
  Effect.gen(function* () {
    const calls: Array<Call> = []
    const reports: Array<PassReport> = []
    let running = 0
    let overlapped = false
    const pass = (trigger: Trigger) =>
      Effect.gen(function* () {
        const call: Call = { trigger, at: yield* Clock.currentTimeMillis }
        const n = calls.length
        calls.push(call)
        running++
        if (running > 1) overlapped = true
        if ((options.passMs ?? 0) > 0) yield* Effect.sleep(options.passMs ?? 0)
        running--
        call.finishedAt = yield* Clock.currentTimeMillis
        const outcome = options.outcome?.(n) ?? { status: "succeeded" }
        if (outcome === "die") return yield* Effect.die(new Error(`pass ${n} blew up`))
        return outcome
      })
    const loop = yield* makeWatchLoop({
      intervalMs: INTERVAL,
      debounceMs: options.debounceMs ?? 250,
      retryBaseMs: 1000,
      pass,
      afterPass: (r) => Effect.sync(() => reports.push(r))
    })
    const fiber = yield* Effect.forkChild(loop.run)
    // Let the loop start (the first pass begins at once).
    yield* TestClock.adjust(0)
    return { calls, reports, loop, fiber, overlapped: () => overlapped }
  })

describe("watch loop", () => {
  it.effect("the first pass starts at once, the next one after one interval and not before", () =>
    Effect.gen(function* () {
      const h = yield* harness({})
      assert.deepStrictEqual(
        h.calls.map((c) => [c.trigger, c.at]),
        [["start", 0]]
      )
      yield* TestClock.adjust(INTERVAL - 1)
      assert.strictEqual(h.calls.length, 1)
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(
        h.calls.map((c) => [c.trigger, c.at]),
        [
          ["start", 0],
          ["interval", INTERVAL]
        ]
      )
      yield* TestClock.adjust(INTERVAL)
      assert.strictEqual(h.calls.length, 3)
      yield* Fiber.interrupt(h.fiber)
    })
  )

  it.effect("the interval counts from the end of the last pass", () =>
    Effect.gen(function* () {
      const h = yield* harness({ passMs: 5000 })
      yield* TestClock.adjust(5000 + INTERVAL - 1)
      assert.strictEqual(h.calls.length, 1)
      yield* TestClock.adjust(1)
      assert.strictEqual(h.calls.length, 2)
      assert.strictEqual(h.calls[1]?.at, 5000 + INTERVAL)
      // The pass is uninterruptible: let it end before stopping the loop.
      yield* TestClock.adjust(5000)
      yield* Fiber.interrupt(h.fiber)
    })
  )

  it.effect("interrupting the loop during a pass lets that pass finish and starts no other", () =>
    Effect.gen(function* () {
      const h = yield* harness({ passMs: 10_000 })
      yield* TestClock.adjust(4000)
      assert.isUndefined(h.calls[0]?.finishedAt, "the first pass is still running")
      const stopping = yield* Effect.forkChild(Fiber.interrupt(h.fiber))
      yield* TestClock.adjust(5999)
      assert.isUndefined(stopping.pollUnsafe(), "the loop waits for the pass in flight")
      yield* TestClock.adjust(1)
      yield* Fiber.join(stopping)
      assert.strictEqual(h.calls[0]?.finishedAt, 10_000, "the pass ran to its end")
      assert.strictEqual(h.reports.length, 1, "and was reported")
      yield* TestClock.adjust(10 * INTERVAL)
      assert.strictEqual(h.calls.length, 1, "no pass after the stop")
    })
  )

  it.effect("a request brings the next pass forward, after the debounce", () =>
    Effect.gen(function* () {
      const h = yield* harness({})
      yield* TestClock.adjust(7000)
      yield* h.loop.request("die web-1")
      yield* TestClock.adjust(249)
      assert.strictEqual(h.calls.length, 1, "not before the debounce is over")
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(
        h.calls.map((c) => [c.trigger, c.at]),
        [
          ["start", 0],
          ["event", 7250]
        ]
      )
      // The interval restarts from that pass.
      yield* TestClock.adjust(INTERVAL - 1)
      assert.strictEqual(h.calls.length, 2)
      yield* TestClock.adjust(1)
      assert.strictEqual(h.calls[2]?.trigger, "interval")
      yield* Fiber.interrupt(h.fiber)
    })
  )

  it.effect("a burst of requests within the debounce makes one pass", () =>
    Effect.gen(function* () {
      const h = yield* harness({})
      yield* TestClock.adjust(1000)
      for (const why of ["kill", "die", "stop", "destroy"]) {
        yield* h.loop.request(why)
        yield* TestClock.adjust(50)
      }
      yield* TestClock.adjust(1000)
      assert.deepStrictEqual(
        h.calls.map((c) => c.trigger),
        ["start", "event"]
      )
      yield* Fiber.interrupt(h.fiber)
    })
  )

  it.effect("requests during a pass coalesce into exactly one follow-up pass, never overlapping", () =>
    Effect.gen(function* () {
      const h = yield* harness({ passMs: 2000 })
      yield* TestClock.adjust(500)
      for (let i = 0; i < 5; i++) {
        yield* h.loop.request(`event ${i}`)
        yield* TestClock.adjust(200)
      }
      // The first pass ends at 2000; the follow-up starts after the debounce, at 2250, and ends at 4250.
      yield* TestClock.adjust(10_000)
      assert.deepStrictEqual(
        h.calls.map((c) => [c.trigger, c.at]),
        [
          ["start", 0],
          ["event", 2250]
        ]
      )
      assert.isFalse(h.overlapped())
      yield* Fiber.interrupt(h.fiber)
    })
  )

  it.effect("a pass that fails is reported and the loop goes on at the interval", () =>
    Effect.gen(function* () {
      const h = yield* harness({ outcome: (n) => (n === 0 ? "die" : { status: "succeeded" }) })
      assert.strictEqual(h.reports[0]?.outcome.status, "failed")
      assert.include(h.reports[0]?.outcome.detail ?? "", "pass 0 blew up")
      yield* TestClock.adjust(INTERVAL)
      assert.strictEqual(h.calls.length, 2)
      assert.strictEqual(h.reports[1]?.outcome.status, "succeeded")
      yield* Fiber.interrupt(h.fiber)
    })
  )

  it.effect("an unreachable engine is retried sooner, backing off exponentially up to the interval", () =>
    Effect.gen(function* () {
      // Unreachable for the first 7 passes, then it answers.
      const h = yield* harness({
        outcome: (n) => (n < 7 ? { status: "unreachable", detail: "host local is unknown" } : { status: "succeeded" })
      })
      yield* TestClock.adjust(10 * INTERVAL)
      const starts = h.calls.map((c) => c.at)
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!)
      // 1s, 2s, 4s, 8s, 16s, then capped at 30s; after the success, the interval again.
      assert.deepStrictEqual(gaps.slice(0, 8), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
      assert.deepStrictEqual(
        h.calls.slice(0, 3).map((c) => c.trigger),
        ["start", "retry", "retry"]
      )
      assert.strictEqual(h.calls[8]?.trigger, "interval")
      assert.deepStrictEqual(
        h.reports.slice(0, 3).map((r) => r.nextInMs),
        [1000, 2000, 4000]
      )
      yield* Fiber.interrupt(h.fiber)
    })
  )

  it("retryDelay: the interval when nothing is to be retried, doubling from the base otherwise", () => {
    assert.strictEqual(retryDelay(0, 1000, 30_000), 30_000)
    assert.strictEqual(retryDelay(1, 1000, 30_000), 1000)
    assert.strictEqual(retryDelay(3, 1000, 30_000), 4000)
    assert.strictEqual(retryDelay(1000, 1000, 30_000), 30_000)
  })
})
