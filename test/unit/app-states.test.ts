/** The three-way sync of app states (spec, engine, repo), as a pure function. */
import { describe, expect, it } from "vitest"
import { syncAppStates } from "../../core/app-states.ts"

const host = "web-1"

describe("syncAppStates (core)", () => {
  it("repo behind engine: an observed app missing from the repo is inserted", () => {
    const diff = syncAppStates({
      host,
      specApps: ["shop"],
      observed: [{ app: "shop", state: "running", specHash: "h1" }],
      repo: []
    })
    expect(diff.insert).toEqual([{ host, app: "shop", state: "running", specHash: "h1" }])
    expect(diff.update).toEqual([])
    expect(diff.delete).toEqual([])
    expect(diff.transitions).toEqual([{ app: "shop", from: undefined, to: "running" }])
  })

  it("repo ahead: an app neither desired nor observed is deleted", () => {
    const diff = syncAppStates({
      host,
      specApps: ["shop"],
      observed: [{ app: "shop", state: "running", specHash: "h1" }],
      repo: [
        { app: "shop", state: "running", specHash: "h1" },
        { app: "blog", state: "degraded", specHash: "h9" }
      ]
    })
    expect(diff.delete).toEqual(["blog"])
    expect(diff.insert).toEqual([])
    expect(diff.update).toEqual([])
    expect(diff.transitions).toEqual([{ app: "blog", from: "degraded", to: undefined }])
  })

  it("a desired app the engine does not show (yet) stays in the repo", () => {
    const diff = syncAppStates({
      host,
      specApps: ["shop"],
      observed: [],
      repo: [{ app: "shop", state: "pending", specHash: "h1" }]
    })
    expect(diff).toEqual({ insert: [], update: [], delete: [], transitions: [] })
  })

  it("state changed: the row is updated and the transition reported", () => {
    const diff = syncAppStates({
      host,
      specApps: ["shop"],
      observed: [{ app: "shop", state: "degraded", specHash: "h1" }],
      repo: [{ app: "shop", state: "running", specHash: "h1" }]
    })
    expect(diff.update).toEqual([{ host, app: "shop", state: "degraded", specHash: "h1" }])
    expect(diff.transitions).toEqual([{ app: "shop", from: "running", to: "degraded" }])
  })

  it("spec hash changed alone: the row is updated without a state transition", () => {
    const diff = syncAppStates({
      host,
      specApps: ["shop"],
      observed: [{ app: "shop", state: "running", specHash: "h2" }],
      repo: [{ app: "shop", state: "running", specHash: "h1" }]
    })
    expect(diff.update).toEqual([{ host, app: "shop", state: "running", specHash: "h2" }])
    expect(diff.transitions).toEqual([])
  })

  it("unchanged rows are untouched", () => {
    const diff = syncAppStates({
      host,
      specApps: ["shop", "blog"],
      observed: [
        { app: "shop", state: "running", specHash: "h1" },
        { app: "blog", state: "failed", specHash: "h2" }
      ],
      repo: [
        { app: "blog", state: "failed", specHash: "h2" },
        { app: "shop", state: "running", specHash: "h1" }
      ]
    })
    expect(diff).toEqual({ insert: [], update: [], delete: [], transitions: [] })
  })

  it("engine unreachable: nothing changes, not even apps gone from the spec", () => {
    const diff = syncAppStates({
      host,
      specApps: [],
      observed: "unreachable",
      repo: [{ app: "shop", state: "running", specHash: "h1" }]
    })
    expect(diff).toEqual({ insert: [], update: [], delete: [], transitions: [] })
  })

  it("rows naming another host are ignored, so another host's apps are never deleted", () => {
    const diff = syncAppStates({
      host,
      specApps: [],
      observed: [{ app: "api", state: "running", specHash: "h3", host: "web-2" }],
      repo: [{ app: "shop", state: "running", specHash: "h1", host: "web-2" }]
    })
    expect(diff).toEqual({ insert: [], update: [], delete: [], transitions: [] })
  })

  it("results are sorted by app whatever the input order", () => {
    const diff = syncAppStates({
      host,
      specApps: [],
      observed: [
        { app: "zeta", state: "running", specHash: "a" },
        { app: "alpha", state: "pending", specHash: "b" }
      ],
      repo: [
        { app: "old-b", state: "failed", specHash: "c" },
        { app: "old-a", state: "failed", specHash: "d" }
      ]
    })
    expect(diff.insert.map((r) => r.app)).toEqual(["alpha", "zeta"])
    expect(diff.delete).toEqual(["old-a", "old-b"])
    expect(diff.transitions.map((t) => t.app)).toEqual(["alpha", "old-a", "old-b", "zeta"])
  })
})
