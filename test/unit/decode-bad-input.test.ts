/** Bad input: decode errors name the path and what was expected; a bad app is a skip, the rest is planned. */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeDesired } from "../../core/decode.ts"
import { plan } from "../../core/plan/plan.ts"
import { changing, observedOf, policy } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

describe("decoding a desired state", () => {
  it("a malformed top level is an error naming the path and what was expected", () => {
    const r = decodeDesired({ scope: "Bad Scope!", apps: "nope" })
    expect(Result.isFailure(r) && r.failure.message.split("\n")).toEqual([
      "at scope: a name must start with a lowercase letter or digit and hold only a-z, 0-9, '_', '.', '-'",
      "at apps: Expected array"
    ])
  })

  it("an app that fails validation becomes an invalid app with a readable message; the others decode", () => {
    const r = decodeDesired({
      scope: "t",
      apps: [
        { name: "bad", services: { web: { image: "", ports: [{ target: 70000 }] } } },
        {
          name: "loop",
          services: {
            a: { image: "x", dependsOn: { b: { condition: "service_started" } } },
            b: { image: "x", dependsOn: { a: { condition: "service_started" } } }
          }
        },
        {
          name: "undeclared",
          services: { a: { image: "x", mounts: [{ type: "volume", source: "data", target: "/d" }] } }
        },
        { name: "ok", services: { web: { image: "x" } } }
      ]
    })
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    expect(r.success.apps.map((a) => a.name)).toEqual(["ok"])
    const messages = Object.fromEntries(r.success.invalid.map((a) => [a.name, a.message]))
    expect(messages.bad).toBe(
      "at apps[0].services.web.image: Expected a value with a length of at least 1\nat apps[0].services.web.ports[0].target: Expected a value between 1 and 65535"
    )
    expect(messages.loop).toBe("depends_on cycle: a -> b -> a")
    expect(messages.undeclared).toBe(
      "services.a.volumes: volume data is not declared in the top-level volumes of app undeclared"
    )
  })

  it("an invalid app is planned as a skip with its message, and the rest of the plan is produced", () => {
    const r = decodeDesired({
      scope: "t",
      apps: [
        { name: "bad", services: { web: {} } },
        { name: "ok", services: { web: { image: "x" } } }
      ]
    })
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    const p = plan(r.success, observedOf([emptyHost("local", ["x:latest"])]), policy())
    expect(p.actions[0]).toMatchObject({
      _tag: "skip",
      app: "bad",
      reason: "at apps[0].services.web.image: Missing key"
    })
    expect(changing(p).map((a) => a.app)).toEqual(["ok", "ok", "ok"])
  })

  it("duplicate apps and labels in moor's namespace are refused", () => {
    const r = decodeDesired({
      scope: "t",
      apps: [
        { name: "a", services: { s: { image: "x", labels: { "moor.scope": "other" } } } },
        { name: "b", services: { s: { image: "x" } } },
        { name: "b", services: { s: { image: "y" } } }
      ]
    })
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    expect(r.success.invalid).toEqual([
      { name: "a", message: "services.s.labels: moor.scope is in moor's own label namespace (moor.*)" },
      { name: "b", message: "app b is declared twice" }
    ])
  })
})
