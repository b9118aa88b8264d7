/** Durations as people write them on a command line: `30s`, `500ms`, `5m`, `1h`, `1m30s`. */
import { Result } from "effect"

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y

/** Milliseconds, or a sentence saying what is wrong and what to write instead. */
export const parseDuration = (text: string): Result.Result<number, string> => {
  const input = text.trim()
  const bad = Result.fail(`"${text}" is not a duration: write a number with a unit, e.g. 500ms, 30s, 5m, 1h or 1m30s`)
  if (input === "") return bad
  let ms = 0
  PART.lastIndex = 0
  while (PART.lastIndex < input.length) {
    const m = PART.exec(input)
    if (m === null) return bad
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN)
  }
  return Number.isFinite(ms) ? Result.succeed(Math.round(ms)) : bad
}
