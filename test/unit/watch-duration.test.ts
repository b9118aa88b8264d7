/** `--interval` and `--debounce` values: the units people write, and a clear refusal otherwise. */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { parseDuration } from "../../runners/watch/duration.ts"

describe("watch: durations", () => {
  it("reads ms, s, m, h and combinations", () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ["250ms", 250],
      ["30s", 30_000],
      ["1.5s", 1500],
      ["5m", 300_000],
      ["1h", 3_600_000],
      ["1m30s", 90_000],
      [" 2m ", 120_000],
      ["0ms", 0]
    ]
    for (const [text, ms] of cases) assert.deepStrictEqual(parseDuration(text), Result.succeed(ms), text)
  })

  it("refuses a number without a unit, an unknown unit, or anything else, saying what to write", () => {
    for (const text of ["30", "", "5 minutes", "1d", "s", "-5s", "1m30", "30s!"]) {
      const r = parseDuration(text)
      assert.isTrue(Result.isFailure(r), text)
      if (Result.isFailure(r)) assert.include(r.failure, "e.g. 500ms, 30s, 5m, 1h or 1m30s")
    }
  })
})
