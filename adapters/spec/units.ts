/** Durations (Go syntax, as Compose: `1m30s`, `500ms`, `1.5h`) and byte sizes (`512m`, `1g`, `1024`). */
import { Result } from "effect"

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }
const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/

/** A Go duration string to nanoseconds. `0` alone is allowed; anything else needs a unit. */
export const parseDurationNs = (text: string): Result.Result<number, string> => {
  const s = text.trim()
  if (s === "0") return Result.succeed(0)
  if (s === "") return Result.fail("expected a duration such as 30s, 1m30s or 500ms, got an empty string")
  let rest = s
  let ns = 0
  while (rest.length > 0) {
    const m = PART.exec(rest)
    if (m === null) {
      return Result.fail(
        /^\d+(\.\d+)?$/.test(s)
          ? `"${s}" has no unit: write a duration such as ${s}s or ${s}ms`
          : `"${s}" is not a duration: expected e.g. 30s, 1m30s, 500ms (units: ns, us, ms, s, m, h)`
      )
    }
    ns += Number(m[1]) * (UNIT_NS[m[2] ?? ""] ?? 0)
    rest = rest.slice(m[0].length)
  }
  return Result.succeed(ns)
}

/** A Go duration string to milliseconds (rounded). */
export const parseDuration = (text: string): Result.Result<number, string> =>
  Result.map(parseDurationNs(text), (ns) => Math.round(ns / 1e6))

const SIZE = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/
const UNIT_BYTES: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }

/** A size to bytes, binary units as Docker does (`1k` = 1024, `512m`, `1.5g`, `100b`, a plain number). */
export const parseBytes = (value: string | number): Result.Result<number, string> => {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0
      ? Result.succeed(value)
      : Result.fail(`${value} is not a size: expected a whole number of bytes or e.g. 512m, 1g`)
  }
  const m = SIZE.exec(value.trim())
  if (m === null) return Result.fail(`"${value}" is not a size: expected e.g. 512m, 1g, 64k or a number of bytes`)
  const unit = m[2] === undefined ? 1 : (UNIT_BYTES[m[2].toLowerCase()] ?? 1)
  return Result.succeed(Math.round(Number(m[1]) * unit))
}
