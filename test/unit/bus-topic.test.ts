import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MoorEvent } from "../../adapters/bus/events.ts"
import {
  matchesPattern,
  patternProblem,
  scopePattern,
  tokenName,
  topicOf,
  topicToken
} from "../../adapters/bus/topic.ts"

const at = "2026-03-01T12:00:00.000Z"
const appState = (scope: string, host: string, app: string): MoorEvent => ({
  type: "app.state",
  scope,
  host,
  app,
  previous: "pending",
  current: "running",
  specHash: "abc",
  runId: "r1",
  at
})

/** What NATS accepts as one token: not empty, no separator, no wildcard, no whitespace. */
const isNatsToken = (token: string) => token.length > 0 && !/[.*>\s]/.test(token)

describe("topicOf", () => {
  it("gives each event type its subject", () => {
    expect(topicOf(appState("prod", "web1", "shop"))).toBe("moor.prod.app.web1.shop.state")
    expect(
      topicOf({
        type: "run.lifecycle",
        scope: "prod",
        runId: "2026-03-01-0001",
        host: "web1",
        trigger: "watch",
        previous: null,
        status: "pending",
        at
      })
    ).toBe("moor.prod.run.2026-03-01-0001.lifecycle")
    expect(topicOf({ type: "heartbeat", scope: "prod", at, lastPass: null })).toBe("moor.prod.heartbeat")
  })

  it("keeps a dotted name in one token, so the subject keeps its shape", () => {
    const topic = topicOf(appState("eu.prod", "web.1", "shop.v2"))
    expect(topic).toBe("moor.eu~prod.app.web~1.shop~v2.state")
    expect(topic.split(".")).toHaveLength(6)
    expect(matchesPattern("moor.*.app.*.*.state", topic)).toBe(true)
  })

  it("does not let two different hosts share a subject", () => {
    expect(topicOf(appState("p", "web.1", "a"))).not.toBe(topicOf(appState("p", "web_1", "a")))
    expect(topicOf(appState("p", "web.1", "a"))).not.toBe(topicOf(appState("p", "web-1", "a")))
  })
})

describe("topicToken", () => {
  it("keeps moor's name characters except '.'", () => {
    expect(topicToken("api_v2-blue")).toBe("api_v2-blue")
    expect(topicToken("a.b.c")).toBe("a~b~c")
  })

  it("escapes what a name should never hold, so the subject stays valid", () => {
    expect(topicToken("a b")).toBe("a%20b")
    expect(topicToken("*")).toBe("%2A")
    expect(topicToken(">")).toBe("%3E")
    expect(topicToken("~")).toBe("%7E")
    expect(topicToken("%")).toBe("%25")
    expect(topicToken("é")).toBe("%C3%A9")
    expect(topicToken("")).toBe("%")
  })

  it("is reversible and always a valid NATS token, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (name) => {
        const token = topicToken(name)
        expect(isNatsToken(token)).toBe(true)
        expect(tokenName(token)).toBe(name)
      }),
      { numRuns: 500 }
    )
  })

  it("never maps two names to one token", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", ".", "_", "-", "~", "%", "1") }), fc.string(), (a, b) => {
        fc.pre(a !== b)
        expect(topicToken(a)).not.toBe(topicToken(b))
      }),
      { numRuns: 500 }
    )
  })
})

describe("wildcard patterns", () => {
  const topic = "moor.prod.app.web1.shop.state"
  it.each([
    ["moor.prod.app.web1.shop.state", true],
    ["moor.prod.>", true],
    ["moor.>", true],
    [">", true],
    ["moor.*.app.*.*.state", true],
    ["moor.prod.app.*.shop.state", true],
    ["moor.prod.app.web1.shop.state.>", false],
    ["moor.prod.app.web1.shop.>", true],
    ["moor.prod.app.web1.>", true],
    ["moor.prod.app.*", false],
    ["moor.prod.app.*.*", false],
    ["moor.staging.>", false],
    ["moor.prod.run.>", false],
    ["moor.prod.app.web1.shop.state.extra", false],
    ["moor.prod.app.web1.shop", false]
  ])("%s matches: %s", (pattern, expected) => {
    expect(patternProblem(pattern)).toBeUndefined()
    expect(matchesPattern(pattern, topic)).toBe(expected)
  })

  it("'>' needs at least one token after it", () => {
    expect(matchesPattern("moor.prod.heartbeat.>", "moor.prod.heartbeat")).toBe(false)
    expect(matchesPattern("moor.prod.>", "moor.prod.heartbeat")).toBe(true)
  })

  it("scopePattern matches every event of the scope and none of another", () => {
    expect(matchesPattern(scopePattern("eu.prod"), topicOf(appState("eu.prod", "h", "a")))).toBe(true)
    expect(matchesPattern(scopePattern("eu"), topicOf(appState("eu.prod", "h", "a")))).toBe(false)
  })

  it.each([
    ["", "empty"],
    ["moor..x", "empty token at position 2"],
    ["moor.>.x", '">" may only be the last token'],
    ["moor.pro*", "a wildcard must be a whole token"],
    ["moor. prod", "whitespace"]
  ])("rejects %j with a reason", (pattern, reason) => {
    expect(patternProblem(pattern)).toContain(reason)
  })
})
