/** Rule 7: an app's state, aggregated from its containers. */
import { describe, expect, it } from "vitest"
import { plan } from "../../core/plan/plan.ts"
import { aggregateState } from "../../core/plan/state.ts"
import { app, deployed, desired, mutate, observedOf, policy, svc } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const d = desired([app("shop", { a: svc(), b: svc() })])
const up = deployed(d, { images: ["moor-fixture/app:1"] })
const stateOf = (obs: typeof up, dd = d) => plan(dd, obs, policy()).apps.find((x) => x.app === "shop")?.state

describe("rule 7: app state", () => {
  it("running: every service runs and is healthy", () => expect(stateOf(up)).toBe("running"))
  it("degraded: some run, some do not", () =>
    expect(stateOf(mutate(up, "shop-a-1", (c) => ({ ...c, state: "exited", exitCode: 1 })))).toBe("degraded"))
  it("degraded: one is unhealthy", () =>
    expect(stateOf(mutate(up, "shop-a-1", (c) => ({ ...c, health: "unhealthy" })))).toBe("degraded"))
  it("failed: none runs, some are present", () => {
    const down = mutate(
      mutate(up, "shop-a-1", (c) => ({ ...c, state: "exited", exitCode: 1 })),
      "shop-b-1",
      (c) => ({ ...c, state: "dead" })
    )
    expect(stateOf(down)).toBe("failed")
  })
  it("pending: desired but nothing there yet, or still starting", () => {
    expect(stateOf(observedOf([emptyHost("local")]))).toBe("pending")
    expect(stateOf(mutate(up, "shop-a-1", (c) => ({ ...c, health: "starting" })))).toBe("pending")
  })
  it("torn_down: not desired and nothing present", () => expect(aggregateState([], false)).toBe("torn_down"))
  it("unknown: the host did not answer", () =>
    expect(stateOf(observedOf([{ _tag: "Unreachable", host: "local", reason: "down" }]))).toBe("unknown"))
  it("an app no longer desired is reported with its containers' state", () => {
    const p = plan(desired([]), up, policy())
    expect(p.apps).toMatchObject([{ app: "shop", state: "running", specHash: "", changes: 5 }])
  })
  it("per service lines say what each container is doing", () => {
    const p = plan(
      d,
      mutate(up, "shop-a-1", (c) => ({ ...c, state: "exited", exitCode: 3 })),
      policy()
    )
    expect(p.apps[0]?.services).toEqual([
      { service: "a", state: "exited (3)", container: "shop-a-1" },
      { service: "b", state: "running", container: "shop-b-1" }
    ])
  })
})
