/** The job summary's Markdown: one row per action, cells that cannot break the table, a cap on rows. */
import { describe, expect, it } from "vitest"
import type { Action, Plan } from "../../core/model/plan.ts"
import { cell, MAX_ROWS, summaryMarkdown } from "../../runners/action/summary.ts"

const skip = (app: string, reason: string): Action => ({
  _tag: "skip",
  id: `local/${app}:skip`,
  host: "local",
  app,
  reason,
  waitsFor: []
})

const planOf = (actions: ReadonlyArray<Action>, extra: Partial<Plan> = {}): Plan => ({
  scope: "shop",
  actions,
  apps: [],
  hosts: [{ host: "local", status: "known" }],
  warnings: [],
  ...extra
})

describe("job summary", () => {
  it("a cell is one line of text: pipes, angle brackets and new lines cannot break the table", () => {
    expect(cell("a | b <script>\nline 2 & more")).toBe("a \\| b &lt;script&gt;<br>line 2 &amp; more")
  })

  it("plan: a title, the headline, one row per action, then the apps", () => {
    const plan = planOf([skip("web", 'services.web.ports[0]: "abc" is | not a port')], {
      apps: [
        {
          host: "local",
          app: "web",
          state: "pending",
          specHash: "",
          changes: 0,
          skipped: "invalid spec\nmore",
          services: []
        }
      ]
    })
    const md = summaryMarkdown({
      mode: "plan",
      scope: "shop",
      plan,
      finalPlan: plan,
      headline: "No changes. 1 skipped."
    })
    expect(md.split("\n")).toEqual([
      "### moor plan: shop",
      "",
      "No changes. 1 skipped.",
      "",
      "| Host | App | Action | Target | Reason |",
      "| --- | --- | --- | --- | --- |",
      '| local | web | ! skip | web | services.web.ports[0]: "abc" is \\| not a port |',
      "",
      "#### Apps",
      "",
      "| Host | App | State | Changes |",
      "| --- | --- | --- | --- |",
      "| local | web | pending | left alone: invalid spec |",
      ""
    ])
  })

  it("an unknown host and the planner's warnings are called out", () => {
    const plan = planOf([], {
      hosts: [{ host: "edge", status: "unknown", reason: "no answer within 3 s" }],
      warnings: ["w1"]
    })
    const md = summaryMarkdown({ mode: "plan", scope: "shop", plan, finalPlan: plan, headline: "No changes." })
    expect(md).toContain("> **host edge is unknown** (no answer within 3 s): left alone")
    expect(md).toContain("> warning: w1")
    expect(md).not.toContain("| Host | App | Action |")
  })

  it(`past ${MAX_ROWS} rows the table is cut, saying how many are not shown`, () => {
    const plan = planOf(Array.from({ length: MAX_ROWS + 5 }, (_, i) => skip(`app${i}`, "r")))
    const md = summaryMarkdown({ mode: "plan", scope: "shop", plan, finalPlan: plan, headline: "" })
    const rows = md.split("\n").filter((l) => l.startsWith("| local |"))
    expect(rows).toHaveLength(MAX_ROWS)
    expect(md).toContain("| … 5 more not shown | | | | |")
  })
})
