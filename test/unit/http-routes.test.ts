/**
 * The HTTP runner's API through the web handler, on the in-memory engine, repo and bus: every
 * route, every refusal (401, 404, 405, 413, 400 with what was wrong), the serverless completion
 * modes, health, readiness and metrics.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { MemoryEngine } from "../../adapters/docker/memory.ts"
import { READINESS_TTL_MS } from "../../runners/http/readiness.ts"
import { authed, call, type Harness, jsonOf, makeHarness, TOKEN } from "../support/http-fixture.ts"

let h: Harness
afterEach(async () => {
  await h.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const reconcile = (body?: unknown) =>
  authed({ method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

const containers = async (harness: Harness) =>
  (await harness.run(MemoryEngine.use((e) => e.snapshot("local")))).containers.map((c) => ({
    name: c.name,
    id: c.id,
    state: c.state
  }))

describe("POST /v1/reconcile", () => {
  it("answers 202 with the pass id and its runs, and the pass converges the spec", async () => {
    h = await makeHarness()
    const res = await call(h, "/v1/reconcile", reconcile())
    expect(res.status).toBe(202)
    const body = await jsonOf(res)
    const passId = String(body.passId)
    expect(passId).toMatch(/^r\d{8}-\d{6}-[0-9a-z]{4}$/)
    expect(body.runs).toEqual([`${passId}-local`])
    expect(body.apps).toBe("all")
    expect(res.headers.get("location")).toBe(`/v1/runs/${passId}`)
    // Without waitUntil the handler answered once the pass was done.
    expect(body.pass).toMatchObject({ id: passId, state: "finished", outcome: "succeeded" })
    expect((await containers(h)).map((c) => `${c.name} ${c.state}`).sort()).toEqual([
      "api-server-1 running",
      "hello-main-1 running",
      "web-server-1 running"
    ])
    const run = await h.repo.getRun(`${passId}-local`).pipe(Effect.runPromise)
    expect(run?.run).toMatchObject({ status: "succeeded", trigger: "webhook", scope: "httptest" })
  })

  it("with waitUntil, answers at once and hands the pass to the platform", async () => {
    h = await makeHarness({ observeDelayMs: 100 })
    const pending: Array<Promise<unknown>> = []
    const res = await call(h, "/v1/reconcile", reconcile(), { waitUntil: (p) => pending.push(p) })
    expect(res.status).toBe(202)
    const body = await jsonOf(res)
    expect(body.state).toBe("running")
    expect(body.pass).toBeUndefined()
    expect(pending).toHaveLength(1)
    // The pass is not done when the answer is sent (the engine takes 100 ms to answer)...
    expect(await containers(h)).toEqual([])
    const finished = (await pending[0]) as { report?: { outcome: string } }
    // ...and is when the promise given to waitUntil settles.
    expect(finished.report?.outcome).toBe("succeeded")
    expect(await containers(h)).toHaveLength(3)
  })

  it("reconciles only the selected apps", async () => {
    h = await makeHarness()
    const res = await call(h, "/v1/reconcile", reconcile({ apps: ["web"] }))
    expect(res.status).toBe(202)
    expect((await jsonOf(res)).apps).toEqual(["web"])
    expect((await containers(h)).map((c) => c.name)).toEqual(["web-server-1"])
  })

  it("a dry run answers 200 with the plan and changes nothing", async () => {
    h = await makeHarness()
    const res = await call(h, "/v1/reconcile", reconcile({ dryRun: true, apps: ["api"] }))
    expect(res.status).toBe(200)
    const body = await jsonOf(res)
    expect(body).toMatchObject({ status: "planned", dryRun: true, apps: ["api"] })
    expect(String(body.summary)).toContain("1 to create")
    expect(String(body.text)).toContain("api")
    expect(await containers(h)).toEqual([])
  })

  it("refuses apps the spec does not declare, naming them and the known ones", async () => {
    h = await makeHarness()
    const res = await call(h, "/v1/reconcile", reconcile({ apps: ["web", "nope"] }))
    expect(res.status).toBe(400)
    expect(await jsonOf(res)).toMatchObject({
      error: "unknown apps",
      detail: { unknown: ["nope"], apps: ["api", "hello", "web"] }
    })
    expect(await containers(h)).toEqual([])
  })

  it.each([
    ["malformed JSON", "{apps: [web]", "malformed JSON", undefined],
    ["a wrong type", JSON.stringify({ apps: "web" }), "invalid request body", ["apps"]],
    ["an empty selection", JSON.stringify({ apps: [] }), "invalid request body", ["apps"]],
    ["a bad app name", JSON.stringify({ apps: ["Web App"] }), "invalid request body", ["apps", 0]],
    ["an unknown key (a typo)", JSON.stringify({ app: ["web"] }), "invalid request body", ["app"]],
    ["dryRun not a boolean", JSON.stringify({ dryRun: "yes" }), "invalid request body", ["dryRun"]]
  ])("answers 400 for %s, saying what and where", async (_, body, error, path) => {
    h = await makeHarness()
    const res = await call(h, "/v1/reconcile", authed({ method: "POST", body }))
    expect(res.status).toBe(400)
    const answer = await jsonOf(res)
    expect(answer.error).toBe(error)
    expect(answer.detail).toBeDefined()
    if (path !== undefined) {
      const issues = answer.detail as Array<{ path: Array<unknown>; message: string }>
      expect(issues.map((i) => i.path)).toContainEqual(path)
      expect(issues.every((i) => i.message.length > 0)).toBe(true)
    }
    expect(await containers(h)).toEqual([])
  })

  it.each([
    ["no Authorization header", {}, "missing Authorization header"],
    ["another scheme", { authorization: `Basic ${btoa(`moor:${TOKEN}`)}` }, "Bearer <token>"],
    ["a wrong token", { authorization: "Bearer not-the-token-at-all" }, "not valid"],
    ["the token with a suffix", { authorization: `Bearer ${TOKEN}x` }, "not valid"],
    ["an empty token", { authorization: "Bearer " }, "Bearer <token>"]
  ])("answers 401 for %s and does nothing", async (_, headers, detail) => {
    h = await makeHarness()
    const res = await call(h, "/v1/reconcile", { method: "POST", headers })
    expect(res.status).toBe(401)
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="moor"/)
    const body = await jsonOf(res)
    expect(body.error).toBe("unauthorized")
    expect(String(body.detail)).toContain(detail)
    expect(await containers(h)).toEqual([])
    expect(await h.heartbeat.last.pipe(Effect.runPromise)).toBeUndefined()
  })

  it("answers 413 for a body over 1 MiB, declared or streamed", async () => {
    h = await makeHarness()
    const big = JSON.stringify({ apps: ["web"], pad: "x".repeat(1024 * 1024) })
    const res = await call(h, "/v1/reconcile", authed({ method: "POST", body: big }))
    expect(res.status).toBe(413)
    expect(await jsonOf(res)).toEqual({ error: "request body too large", detail: "the limit is 1 MiB" })

    // A streamed body without a length: reading stops past the limit.
    let pulled = 0
    const chunk = new Uint8Array(64 * 1024).fill(32)
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.length
        if (pulled > 8 * 1024 * 1024) controller.close()
        else controller.enqueue(chunk)
      }
    })
    const streamed = await h.handler(
      new Request("http://moor.test/v1/reconcile", {
        method: "POST",
        body: stream,
        headers: { authorization: `Bearer ${TOKEN}` },
        duplex: "half"
      } as RequestInit)
    )
    expect(streamed.status).toBe(413)
    expect(pulled).toBeLessThan(2 * 1024 * 1024)
  })
})

describe("GET /v1/runs/:id", () => {
  it("shows a run with its actions, and a pass with its runs", async () => {
    h = await makeHarness()
    const passId = String((await jsonOf(await call(h, "/v1/reconcile", reconcile({ apps: ["api"] })))).passId)

    const run = await call(h, `/v1/runs/${passId}-local`, authed())
    expect(run.status).toBe(200)
    const { run: detail } = (await jsonOf(run)) as {
      run: { id: string; status: string; host: string; actions: Array<{ kind: string; app: string; outcome: string }> }
    }
    expect(detail).toMatchObject({ id: `${passId}-local`, status: "succeeded", host: "local" })
    expect(detail.actions.map((a) => `${a.kind} ${a.app} ${a.outcome}`)).toEqual([
      "ensure-network api done",
      "create api done",
      "start api done"
    ])

    const pass = await call(h, `/v1/runs/${passId}`, authed())
    expect(pass.status).toBe(200)
    const body = (await jsonOf(pass)) as { pass: Record<string, unknown>; runs: Array<{ id: string }> }
    expect(body.pass).toMatchObject({ id: passId, state: "finished", outcome: "succeeded", apps: ["api"] })
    expect(body.runs.map((r) => r.id)).toEqual([`${passId}-local`])
  })

  it("answers 404 for an unknown id, 400 for a malformed one, 401 without the token", async () => {
    h = await makeHarness()
    const missing = await call(h, "/v1/runs/r20990101-000000-zzzz", authed())
    expect(missing.status).toBe(404)
    expect(await jsonOf(missing)).toMatchObject({ error: "not found" })
    const bad = await call(h, `/v1/runs/${encodeURIComponent("a b;drop")}`, authed())
    expect(bad.status).toBe(400)
    expect((await call(h, "/v1/runs/r20990101-000000-zzzz")).status).toBe(401)
  })
})

describe("POST /v1/hooks/image", () => {
  it("pulls the image and recreates only the services that run it when it changed behind the tag", async () => {
    h = await makeHarness()
    await call(h, "/v1/reconcile", reconcile())
    const before = new Map((await containers(h)).map((c) => [c.name, c.id]))
    // The registry now has a new image behind the same tag.
    await h.run(
      MemoryEngine.use((e) => e.addImage({ ref: "moor-http/web:1", id: `sha256:${"7".repeat(64)}`, remote: true }))
    )
    await h.run(MemoryEngine.use((e) => e.resetCalls))

    const res = await call(
      h,
      "/v1/hooks/image",
      authed({ method: "POST", body: JSON.stringify({ image: "moor-http/web:1" }) })
    )
    expect(res.status).toBe(202)
    const body = await jsonOf(res)
    expect(body).toMatchObject({
      status: "accepted",
      image: "moor-http/web:1",
      services: [{ host: "local", app: "web", service: "server" }],
      pass: { outcome: "succeeded", apps: ["web"], notes: ["pulled moor-http/web:1 on local"] }
    })
    const calls = await h.run(MemoryEngine.use((e) => e.calls("local")))
    expect(calls["image.pull"]).toBe(1)
    const after = new Map((await containers(h)).map((c) => [c.name, c.id]))
    expect(after.get("web-server-1")).not.toBe(before.get("web-server-1"))
    expect(after.get("api-server-1")).toBe(before.get("api-server-1"))
    expect(after.get("hello-main-1")).toBe(before.get("hello-main-1"))
  })

  it("a failed pull is reported and the pass still runs with the image on the host", async () => {
    h = await makeHarness()
    await call(h, "/v1/reconcile", reconcile())
    await h.run(MemoryEngine.use((e) => e.addImage({ ref: "moor-http/api:1", id: `sha256:${"8".repeat(64)}` })))
    const res = await call(
      h,
      "/v1/hooks/image",
      authed({ method: "POST", body: JSON.stringify({ image: "moor-http/api:1" }) })
    )
    const body = (await jsonOf(res)) as { pass: { outcome: string; notes: Array<string> } }
    expect(body.pass.outcome).toBe("succeeded")
    expect(body.pass.notes[0]).toMatch(/^pulling moor-http\/api:1 on local failed \(the image on the host is used\): /)
  })

  it("ignores an image no service runs, and refuses a malformed reference", async () => {
    h = await makeHarness()
    const none = await call(
      h,
      "/v1/hooks/image",
      authed({ method: "POST", body: JSON.stringify({ image: "other/app:3" }) })
    )
    expect(none.status).toBe(200)
    expect(await jsonOf(none)).toEqual({ status: "ignored", reason: "no service in the spec runs other/app:3" })
    const bad = await call(
      h,
      "/v1/hooks/image",
      authed({ method: "POST", body: JSON.stringify({ image: "Not An Image" }) })
    )
    expect(bad.status).toBe(400)
    expect(await jsonOf(bad)).toMatchObject({ error: "invalid request body", detail: [{ path: ["image"] }] })
    const missing = await call(h, "/v1/hooks/image", authed({ method: "POST", body: "{}" }))
    expect(missing.status).toBe(400)
    expect((await call(h, "/v1/hooks/image", { method: "POST", body: '{"image":"a:1"}' })).status).toBe(401)
    expect(await containers(h)).toEqual([])
  })
})

describe("routing", () => {
  it("answers 404 with JSON for an unknown route", async () => {
    h = await makeHarness()
    const res = await call(h, "/v2/reconcile", authed({ method: "POST" }))
    expect(res.status).toBe(404)
    expect(res.headers.get("content-type")).toContain("application/json")
    expect(await jsonOf(res)).toEqual({ error: "not found", detail: "no route POST /v2/reconcile" })
  })

  it.each([
    ["GET", "/v1/reconcile", "POST"],
    ["DELETE", "/v1/runs/x", "GET, HEAD"],
    ["GET", "/v1/hooks/github", "POST"],
    ["PUT", "/v1/hooks/image", "POST"],
    ["POST", "/healthz", "GET, HEAD"],
    ["POST", "/metrics", "GET, HEAD"]
  ])("answers 405 for %s %s with Allow: %s", async (method, path, allow) => {
    h = await makeHarness()
    const res = await call(h, path, authed({ method }))
    expect(res.status).toBe(405)
    expect(res.headers.get("allow")).toBe(allow)
    expect(await jsonOf(res)).toMatchObject({ error: "method not allowed" })
  })
})

describe("health, readiness, metrics", () => {
  it("/healthz shows the last pass", async () => {
    h = await makeHarness()
    const before = await jsonOf(await call(h, "/healthz"))
    expect(before).toMatchObject({ status: "ok", lastPass: null })
    const passId = String((await jsonOf(await call(h, "/v1/reconcile", reconcile()))).passId)
    const after = await jsonOf(await call(h, "/healthz"))
    expect(after).toMatchObject({
      status: "ok",
      lastPass: { id: passId, trigger: "webhook", outcome: "succeeded", runs: [{ id: `${passId}-local` }] },
      lastSuccess: { id: passId }
    })
  })

  it("/readyz is 200 when the engine and repo answer, 503 naming what does not", async () => {
    h = await makeHarness()
    const ok = await call(h, "/readyz")
    expect(ok.status).toBe(200)
    expect(await jsonOf(ok)).toEqual({ status: "ready", checks: { "engine local": "ok", "repo sqlite": "ok" } })
    await h.run(MemoryEngine.use((e) => e.setReachable("local", false)))
    await sleep(READINESS_TTL_MS + 100)
    const down = await call(h, "/readyz")
    expect(down.status).toBe(503)
    const body = (await jsonOf(down)) as { error: string; detail: Record<string, string> }
    expect(body.error).toBe("not ready")
    expect(body.detail).toEqual({ "engine local": "unreachable", "repo sqlite": "ok" })
  })

  it("/healthz and /readyz say how things are, never an error's text (the log has it)", async () => {
    h = await makeHarness()
    await h.run(MemoryEngine.use((e) => e.setReachable("local", false)))
    const accepted = await jsonOf(await call(h, "/v1/reconcile", reconcile()))
    const runError = String((accepted.pass as { runs: Array<{ error: string }> }).runs[0]?.error)
    expect(runError).toContain("host local is unknown")
    const health = await call(h, "/healthz")
    const ready = await call(h, "/readyz")
    const bodies = `${await health.text()}\n${await ready.text()}`
    expect(bodies).toContain('"outcome":"failed"')
    expect(bodies).toContain('"engine local":"unreachable"')
    expect(bodies).not.toContain("unknown")
    expect(bodies).not.toContain(
      runError
        .slice(runError.indexOf(":") + 1)
        .trim()
        .slice(0, 20)
    )
    expect(bodies).not.toMatch(/"error":"(?!not ready")/)
    expect(h.logs.some((l) => l.includes("readyz: engine local:"))).toBe(true)
  })

  it("/readyz asks the engines at most once a second, however often it is called", async () => {
    h = await makeHarness()
    const pings = async () => (await h.run(MemoryEngine.use((e) => e.calls("local")))).ping ?? 0
    const before = await pings()
    const answers = await Promise.all(Array.from({ length: 25 }, () => call(h, "/readyz")))
    for (let i = 0; i < 25; i++) answers.push(await call(h, "/readyz"))
    expect(answers.every((r) => r.status === 200)).toBe(true)
    expect((await pings()) - before).toBe(1)
    await sleep(READINESS_TTL_MS + 100)
    await call(h, "/readyz")
    expect((await pings()) - before).toBe(2)
  })

  it("/metrics is Prometheus text with passes, actions, durations, drift and last-pass times", async () => {
    h = await makeHarness()
    await call(h, "/v1/reconcile", reconcile())
    await call(h, "/v1/reconcile", reconcile()) // nothing left to do: no drift
    await call(h, "/v1/reconcile", { method: "POST" }) // 401, counted as a request only
    const res = await call(h, "/metrics")
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
    const text = await res.text()
    for (const line of text.trimEnd().split("\n")) {
      if (line.startsWith("#")) expect(line).toMatch(/^# (HELP|TYPE) [a-z_]+ .+$/)
      else expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$/)
    }
    const value = (series: string) =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`${series} `))
          ?.split(" ")[1]
      )
    expect(value('moor_passes_total{outcome="succeeded"}')).toBe(2)
    expect(value('moor_passes_total{outcome="failed"}')).toBe(0)
    expect(value('moor_actions_total{kind="create",outcome="done"}')).toBe(3)
    expect(value("moor_pass_duration_seconds_count")).toBe(2)
    expect(value('moor_pass_duration_seconds_bucket{le="+Inf"}')).toBe(2)
    expect(value("moor_drift_actions_total")).toBe(9)
    expect(value("moor_last_pass_drift_actions")).toBe(0)
    expect(value("moor_last_success_timestamp_seconds")).toBeGreaterThan(1.6e9)
    expect(value("moor_seconds_since_last_pass")).toBeGreaterThanOrEqual(0)
    expect(value('moor_http_requests_total{route="/v1/reconcile",status="401"}')).toBe(1)
  })
})
