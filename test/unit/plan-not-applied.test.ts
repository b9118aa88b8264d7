/**
 * A service moor reads but cannot apply yet (secrets, configs, build): one skip for it with the
 * reason, its dependents wait with that reason, the rest of the app and the other apps plan normally,
 * and a container it already has is left as it is.
 */
import { describe, expect, it } from "vitest"
import { plan } from "../../core/plan/plan.ts"
import { app, changing, deployed, desired, policy, svc } from "../support/core-fixtures.ts"

const REASON = "configs/secrets are not applied yet: web uses secret db_password"
const images = ["moor-fixture/app:1", "moor-fixture/app:2"]

describe("services that cannot be applied yet", () => {
  const d = desired([
    app("shop", {
      web: svc("moor-fixture/app:1", { notApplied: REASON }),
      proxy: svc("moor-fixture/app:1", { dependsOn: { web: { condition: "service_started" } } }),
      cache: svc("moor-fixture/app:1")
    }),
    app("blog", { site: svc("moor-fixture/app:1") })
  ])

  it("the service has one skip with its reason; its dependents wait with it; the others are created", () => {
    const p = plan(d, deployed(desired([]), { images }), policy())
    const skips = p.actions.filter((a) => a._tag === "skip")
    expect(skips.map((a) => [a.id, a.reason])).toEqual([
      ["local/shop/web:skip", REASON],
      ["local/shop/proxy:skip", `depends on web: shop/web is not ready (${REASON})`]
    ])
    expect(changing(p).map((a) => a.id)).toEqual([
      "local:network:blog_default",
      "local/blog/site:create",
      "local/blog/site:start",
      "local:network:shop_default",
      "local/shop/cache:create",
      "local/shop/cache:start"
    ])
  })

  it("a container the service already has is neither replaced nor removed, even when its spec changed", () => {
    const before = desired([app("shop", { web: svc("moor-fixture/app:1") })])
    const after = desired([app("shop", { web: svc("moor-fixture/app:2", { notApplied: REASON }) })])
    const p = plan(after, deployed(before, { images }), policy())
    expect(changing(p)).toEqual([])
    expect(p.actions.map((a) => `${a._tag} ${a.id}: ${a.reason}`)).toEqual([`skip local/shop/web:skip: ${REASON}`])
  })
})
