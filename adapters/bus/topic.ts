/**
 * Topics (NATS subjects) of moor's events, and NATS-style wildcard patterns.
 *
 *   moor.<scope>.app.<host>.<app>.state
 *   moor.<scope>.run.<runId>.lifecycle
 *   moor.<scope>.heartbeat
 *
 * Every name becomes exactly one token (`topicToken`), by this rule:
 *   - `a-z`, `A-Z`, `0-9`, `_` and `-` are kept;
 *   - `.` becomes `~` (so host `web.1` is the token `web~1`);
 *   - any other character (`~` and `%` included) becomes `%HH` for each of its UTF-8 bytes;
 *   - the empty name becomes `%`.
 * The rule is reversible (`tokenName`), so two names never share a token, and its output never
 * holds `.`, `*`, `>` or whitespace, so it is a valid NATS token. Names moor accepts are
 * `[a-z0-9][a-z0-9_.-]*`: for them only the `.` rule ever applies.
 */
import type { MoorEvent } from "./events.ts"

const kept = /^[A-Za-z0-9_-]$/
const encoder = new TextEncoder()

const hex = (byte: number): string => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`

/** One name (scope, host, app, run id) as one subject token. */
export const topicToken = (name: string): string => {
  if (name === "") return "%"
  let out = ""
  for (const char of name) {
    if (char === ".") out += "~"
    else if (kept.test(char)) out += char
    else for (const byte of encoder.encode(char)) out += hex(byte)
  }
  return out
}

/** The name a token stands for: the inverse of `topicToken`. */
export const tokenName = (token: string): string => {
  if (token === "%") return ""
  const bytes: Array<number> = []
  for (let i = 0; i < token.length; i++) {
    const char = token[i]!
    if (char === "%") {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16))
      i += 2
    } else if (char === "~") bytes.push(0x2e)
    else bytes.push(char.charCodeAt(0))
  }
  return new TextDecoder().decode(new Uint8Array(bytes))
}

/** The subject an event is published on. */
export const topicOf = (event: MoorEvent): string => {
  const scope = `moor.${topicToken(event.scope)}`
  switch (event.type) {
    case "app.state":
      return `${scope}.app.${topicToken(event.host)}.${topicToken(event.app)}.state`
    case "run.lifecycle":
      return `${scope}.run.${topicToken(event.runId)}.lifecycle`
    case "heartbeat":
      return `${scope}.heartbeat`
  }
}

/** The pattern that matches every event of a scope: `moor.<scope>.>`. */
export const scopePattern = (scope: string): string => `moor.${topicToken(scope)}.>`

/**
 * Why a subscription pattern is not valid, or undefined when it is. Tokens are separated by `.`;
 * `*` stands for exactly one token, `>` (last token only) for one or more tokens.
 */
export const patternProblem = (pattern: string): string | undefined => {
  if (pattern === "") return "the pattern is empty"
  if (/\s/.test(pattern)) return `the pattern "${pattern}" holds whitespace`
  const tokens = pattern.split(".")
  for (const [i, token] of tokens.entries()) {
    if (token === "") return `the pattern "${pattern}" has an empty token at position ${i + 1}`
    if (token === ">" && i !== tokens.length - 1) return `in "${pattern}", ">" may only be the last token`
    if (token !== "*" && token !== ">" && (token.includes("*") || token.includes(">")))
      return `in "${pattern}", the token "${token}" mixes a wildcard with text: a wildcard must be a whole token`
  }
  return undefined
}

/** Whether `topic` matches `pattern`, NATS style (`*` one token, `>` the rest, at least one). */
export const matchesPattern = (pattern: string, topic: string): boolean => {
  const want = pattern.split(".")
  const have = topic.split(".")
  for (const [i, token] of want.entries()) {
    if (token === ">") return have.length > i
    const actual = have[i]
    if (actual === undefined) return false
    if (token !== "*" && token !== actual) return false
  }
  return want.length === have.length
}
