/**
 * Many requests at once: they coalesce into passes that never overlap (single flight, one
 * follow-up pass with the union of the selections), and shutting down lets the running pass
 * finish while the queued one is cancelled.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { PassStatus } from "../../runners/http/pass-queue.ts"
import { authed, call, githubRequest, type Harness, jsonOf, makeHarness } from "../support/http-fixture.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const post = (body?: unknown) =>
  authed({ method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

describe("coalescing", () => {
  it("20 reconcile requests at once run as 2 passes that never overlap", async () => {
    // The engine answers slowly, so the first pass is still running when the others arrive.
    h = await makeHarness({ observeDelayMs: 400 })
    const harness = h
    const background: Array<Promise<unknown>> = []
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(harness, "/v1/reconcile", post(), { waitUntil: (p) => background.push(p) }).then(jsonOf)
      )
    )
    await Promise.all(background)

    const passIds = [...new Set(answers.map((a) => String(a.passId)))]
    expect(passIds).toHaveLength(2)
    const [first, second] = passIds
    expect(answers.filter((a) => a.passId === first)).toEqual([
      expect.objectContaining({ state: "running", coalesced: false })
    ])
    const followers = answers.filter((a) => a.passId === second)
    expect(followers).toHaveLength(19)
    expect(followers.filter((a) => a.coalesced === false)).toHaveLength(1)
    expect(followers.every((a) => a.state === "queued")).toBe(true)

    // What the repo recorded: 2 runs on the one host, one after the other.
    const runs = await h.repo.listRuns({ scope: "httptest", limit: 100 }).pipe(Effect.runPromise)
    expect(runs.map((r) => r.id).sort()).toEqual(passIds.map((p) => `${p}-local`).sort())
    const byStart = [...runs].sort((a, b) => a.startedAt - b.startedAt)
    byStart.slice(1).forEach((run, i) => {
      const previousEnd = byStart[i]?.finishedAt
      expect(previousEnd).toBeDefined()
      expect(run.startedAt).toBeGreaterThanOrEqual(previousEnd ?? Infinity)
    })
    expect(runs.every((r) => r.status === "succeeded")).toBe(true)

    const status = (await jsonOf(await call(h, `/v1/runs/${second}`, authed()))) as { pass: { requests: number } }
    expect(status.pass.requests).toBe(19)
  })

  it("merges the follow-up pass's selections: the union of apps, or all when one asks for all", async () => {
    h = await makeHarness({ observeDelayMs: 150 })
    const harness = h
    const background: Array<Promise<unknown>> = []
    const waitUntil = (p: Promise<unknown>) => background.push(p)
    const send = (body: unknown) => call(harness, "/v1/reconcile", post(body), { waitUntil }).then(jsonOf)

    const running = await send({ apps: ["hello"] })
    const a = await send({ apps: ["web"] })
    const b = await send({ apps: ["api", "web"] })
    expect(a.passId).toBe(b.passId)
    expect(a.passId).not.toBe(running.passId)
    const statuses = (await Promise.all(background)) as Array<PassStatus>
    expect(statuses.find((s) => s.id === a.passId)?.report?.apps).toEqual(["api", "web"])
    expect(statuses.find((s) => s.id === running.passId)?.report?.apps).toEqual(["hello"])

    const hold = await send({ apps: ["hello"] })
    const some = await send({ apps: ["web"] })
    const all = await send({})
    expect(all.passId).toBe(some.passId)
    expect(hold.passId).not.toBe(all.passId)
    const later = (await Promise.all(background)) as Array<PassStatus>
    expect(later.find((s) => s.id === all.passId)).toMatchObject({ all: true, report: { apps: undefined } })
  })

  it("a push and an image hook merged into one pass update the checkout and pull", async () => {
    h = await makeHarness({ observeDelayMs: 150 })
    const harness = h
    const background: Array<Promise<unknown>> = []
    const waitUntil = (p: Promise<unknown>) => background.push(p)
    await call(harness, "/v1/reconcile", post({ apps: ["api"] }), { waitUntil })
    const image = await call(
      harness,
      "/v1/hooks/image",
      authed({ method: "POST", body: JSON.stringify({ image: "moor-http/web:1" }) }),
      { waitUntil }
    ).then(jsonOf)
    const push = await call(
      harness,
      "/v1/hooks/github",
      githubRequest("push", {
        ref: "refs/heads/master",
        after: "c".repeat(40),
        repository: { full_name: "Codertocat/Hello-World" }
      }),
      { waitUntil }
    ).then(jsonOf)
    expect(push.passId).toBe(image.passId)
    const statuses = (await Promise.all(background)) as Array<PassStatus>
    const merged = statuses.find((s) => s.id === push.passId)
    expect(merged?.all).toBe(true)
    expect(merged?.images).toEqual(["moor-http/web:1"])
    expect(merged?.report?.notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^checkout .* updated/), "pulled moor-http/web:1 on local"])
    )
    expect(h.gitCalls).toHaveLength(1)
  })
})

describe("shutdown", () => {
  it("lets the running pass finish and cancels the queued one", async () => {
    h = await makeHarness({ observeDelayMs: 300 })
    const harness = h
    const background: Array<Promise<unknown>> = []
    const waitUntil = (p: Promise<unknown>) => background.push(p)
    const first = await call(harness, "/v1/reconcile", post(), { waitUntil }).then(jsonOf)
    const queued = await call(harness, "/v1/reconcile", post(), { waitUntil }).then(jsonOf)
    const closing = harness.close()
    h = undefined
    const statuses = (await Promise.all(background)) as Array<PassStatus>
    await closing
    expect(statuses.find((s) => s.id === first.passId)?.report?.outcome).toBe("succeeded")
    expect(statuses.find((s) => s.id === queued.passId)?.report).toMatchObject({
      outcome: "cancelled",
      notes: ["cancelled: the server shut down before it started"]
    })
  })

  it("interrupts a running pass that outlasts the drain timeout, and says so", async () => {
    h = await makeHarness({ observeDelayMs: 2_000, settings: { drainTimeoutMs: 100 } })
    const harness = h
    const background: Array<Promise<unknown>> = []
    const first = await call(harness, "/v1/reconcile", post(), { waitUntil: (p) => background.push(p) }).then(jsonOf)
    const t0 = Date.now()
    const closing = harness.close()
    h = undefined
    const [status] = (await Promise.all(background)) as Array<PassStatus>
    await closing
    expect(Date.now() - t0).toBeLessThan(1_500)
    expect(status).toMatchObject({
      id: first.passId,
      report: { outcome: "cancelled", notes: ["interrupted: the server shut down before the pass finished"] }
    })
  })
})
