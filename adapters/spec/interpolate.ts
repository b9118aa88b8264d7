/**
 * Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `${VAR+alt}`, and `$$` for a literal `$`.
 * Defaults, alternatives and messages may hold interpolations themselves. A `$` followed by
 * anything else is an error (as in Compose), so a typo never becomes a silent literal. An error
 * says where in the value it is (the character), never the value: it may be a secret.
 */
import { Result } from "effect"

export type Lookup = (name: string) => string | undefined

export interface Interpolated {
  readonly value: string
  /** Variables used without a default that were not set (they became ""). */
  readonly unset: ReadonlyArray<string>
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/

class Failure {
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

export const interpolate = (text: string, lookup: Lookup): Result.Result<Interpolated, string> => {
  if (!text.includes("$")) return Result.succeed({ value: text, unset: [] })
  const unset: Array<string> = []
  try {
    return Result.succeed({ value: expand(text, lookup, unset, 0), unset })
  } catch (e) {
    if (e instanceof Failure) return Result.fail(e.message)
    throw e
  }
}

/** The index of the `}` closing a `${` whose body starts at `from`, counting nested `${...}`. */
const closingBrace = (text: string, from: number): number => {
  let depth = 1
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (c === "$" && text[i + 1] === "$") i++
    else if (c === "$" && text[i + 1] === "{") {
      depth++
      i++
    } else if (c === "}" && --depth === 0) return i
  }
  return -1
}

/** "character N of the value", for `text[i]` where `text` starts at `base` in the value. */
const where = (base: number, i: number): string => `character ${base + i + 1} of the value`

/** `text` expanded; `base` is where it starts in the value (a default's text is inside it). */
const expand = (text: string, lookup: Lookup, unset: Array<string>, base: number): string => {
  let out = ""
  let i = 0
  while (i < text.length) {
    const dollar = text.indexOf("$", i)
    if (dollar === -1) return out + text.slice(i)
    out += text.slice(i, dollar)
    const next = text[dollar + 1]
    if (next === "$") {
      out += "$"
      i = dollar + 2
      continue
    }
    if (next === "{") {
      const end = closingBrace(text, dollar + 2)
      if (end === -1)
        throw new Failure(
          `unterminated "\${" (${where(base, dollar)}): close it with "}", or write "$$" for a literal "$"`
        )
      out += braced(text.slice(dollar + 2, end), lookup, unset, base + dollar + 2)
      i = end + 1
      continue
    }
    const name = NAME.exec(text.slice(dollar + 1))?.[0]
    if (name === undefined) {
      throw new Failure(
        `invalid interpolation: the "$" at ${where(base, dollar)} must start a variable ($VAR or \${VAR}); write "$$" for a literal "$"`
      )
    }
    out += value(name, lookup, unset)
    i = dollar + 1 + name.length
  }
  return out
}

const value = (name: string, lookup: Lookup, unset: Array<string>): string => {
  const v = lookup(name)
  if (v === undefined) {
    unset.push(name)
    return ""
  }
  return v
}

/** The inside of `${...}`, which starts at `base` in the value. */
const braced = (body: string, lookup: Lookup, unset: Array<string>, base: number): string => {
  const name = NAME.exec(body)?.[0]
  if (name === undefined)
    throw new Failure(
      `invalid variable name after "\${" (${where(base, 0)}): a name starts with a letter or "_" and holds letters, digits and "_"`
    )
  const rest = body.slice(name.length)
  if (rest === "") return value(name, lookup, unset)
  const colon = rest.startsWith(":")
  const op = rest[colon ? 1 : 0]
  const word = rest.slice(colon ? 2 : 1)
  const wordBase = base + name.length + (colon ? 2 : 1)
  const v = lookup(name)
  // With a colon, an empty value counts as unset.
  const isSet = v !== undefined && (!colon || v !== "")
  switch (op) {
    case "-":
      return isSet ? (v ?? "") : expand(word, lookup, unset, wordBase)
    case "?": {
      if (isSet) return v ?? ""
      const message = expand(word, lookup, unset, wordBase)
      throw new Failure(
        message === ""
          ? `required variable ${name} is missing a value`
          : `required variable ${name} is missing a value: ${message}`
      )
    }
    case "+":
      return isSet ? expand(word, lookup, unset, wordBase) : ""
    default:
      throw new Failure(
        `invalid interpolation of ${name} (${where(base, name.length)}): expected \${${name}}, or one of :- - :? ? :+ + after the name`
      )
  }
}
