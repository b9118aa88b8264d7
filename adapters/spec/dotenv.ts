/**
 * `.env` syntax (the app's `.env` for interpolation, and `env_file`): `KEY=value`, `export KEY=value`,
 * `# comments`, 'single quotes' (literal), "double quotes" (escapes \n \t \r \" \\ \$, may span lines),
 * unquoted values (trimmed, ` #` starts a comment), `KEY` alone (taken from the environment).
 * Unquoted and double-quoted values are interpolated; a variable resolves from the keys above it
 * in the same file first, then from `lookup`. An error says which line and key, never the text of
 * the line: it may hold a secret.
 */
import { Result } from "effect"
import { interpolate, type Lookup } from "./interpolate.ts"

export interface DotenvEntry {
  readonly key: string
  /** Undefined for `KEY` alone when the variable is not set either. */
  readonly value: string | undefined
  readonly line: number
}
export interface DotenvError {
  readonly line: number
  readonly message: string
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*/

export const parseDotenv = (text: string, lookup: Lookup): Result.Result<Array<DotenvEntry>, DotenvError> => {
  const entries: Array<DotenvEntry> = []
  const local = new Map<string, string>()
  const resolve: Lookup = (name) => local.get(name) ?? lookup(name)
  const src = text.replace(/\r\n?/g, "\n")
  let i = 0
  let line = 1
  const fail = (message: string) => Result.fail({ line, message })
  while (i < src.length) {
    const eol = src.indexOf("\n", i)
    const lineEnd = eol === -1 ? src.length : eol
    const raw = src.slice(i, lineEnd)
    const trimmed = raw.trim()
    if (trimmed === "" || trimmed.startsWith("#")) {
      i = lineEnd + 1
      line++
      continue
    }
    const startLine = line
    let body = trimmed.startsWith("export ") ? trimmed.slice(7).trimStart() : trimmed
    const key = KEY.exec(body)?.[0]
    if (key === undefined)
      return fail('expected KEY=value: a line starts with a name (letters, digits, "_", ".", "-"), then "="')
    body = body.slice(key.length).trimStart()
    if (body === "" || body.startsWith("#")) {
      entries.push({ key, value: lookup(key), line: startLine })
      i = lineEnd + 1
      line++
      continue
    }
    // Without "=", the first word may be a value pasted alone: it is not shown.
    if (!body.startsWith("=")) return fail('expected KEY=value: no "=" after the first word of the line')
    // Offset of the value in src: after "=" and any blanks.
    const valueStart = src.indexOf("=", i) + 1
    let j = valueStart
    while (src[j] === " " || src[j] === "\t") j++
    let value: string
    let after: number
    const quote = src[j]
    if (quote === "'" || quote === '"') {
      let k = j + 1
      let out = ""
      let closed = false
      while (k < src.length) {
        const c = src[k] as string
        if (c === quote) {
          closed = true
          break
        }
        if (quote === '"' && c === "\\" && k + 1 < src.length) {
          const n = src[k + 1] as string
          out +=
            n === "n"
              ? "\n"
              : n === "t"
                ? "\t"
                : n === "r"
                  ? "\r"
                  : n === "$"
                    ? "$$"
                    : n === '"' || n === "\\"
                      ? n
                      : `\\${n}`
          k += 2
          continue
        }
        if (quote === '"' && c === "$" && src[k + 1] === "$") {
          out += "$$"
          k += 2
          continue
        }
        out += c
        k++
      }
      if (!closed) return fail(`unterminated ${quote === "'" ? "single" : "double"} quote in the value of ${key}`)
      line += src.slice(j, k).split("\n").length - 1
      if (quote === '"') {
        const r = interpolate(out, resolve)
        if (Result.isFailure(r)) return fail(`${key}: ${r.failure}`)
        value = r.success.value
      } else value = out
      const eol2 = src.indexOf("\n", k + 1)
      after = eol2 === -1 ? src.length : eol2
      const tail = src.slice(k + 1, after).trim()
      if (tail !== "" && !tail.startsWith("#"))
        return fail(
          `unexpected text after the closing quote of ${key}'s value: put the whole value inside the quotes, or start a comment with " #"`
        )
    } else {
      const rest = src.slice(j, lineEnd)
      const comment = rest.search(/\s#/)
      const r = interpolate((comment === -1 ? rest : rest.slice(0, comment)).trim(), resolve)
      if (Result.isFailure(r)) return fail(`${key}: ${r.failure}`)
      value = r.success.value
      after = lineEnd
    }
    entries.push({ key, value, line: startLine })
    local.set(key, value)
    i = after + 1
    line++
  }
  return Result.succeed(entries)
}
