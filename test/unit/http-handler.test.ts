/**
 * `makeHandler` with its default services (what a serverless platform gets): the engines the spec
 * names, the repo and bus from the settings and environment. No engine answers here, which is what
 * `/readyz` must say; a spec that cannot be loaded makes every request a 503 that says why.
 */
import { Redacted } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { makeHandler, type WebHandler } from "../../runners/http/handler.ts"
import { defaultPassSettings, MIB, type ServeSettings } from "../../runners/http/settings.ts"
import { defaultApps, TOKEN, writeSpec } from "../support/http-fixture.ts"

let dir: string
let web: WebHandler | undefined
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "moor-http-handler-"))
})
afterEach(async () => {
  await web?.dispose()
  web = undefined
  rmSync(dir, { recursive: true, force: true })
})

const settings = (spec: string): ServeSettings => ({
  spec,
  scope: undefined,
  dockerHost: `unix://${join(dir, "no-engine.sock")}`,
  repo: "memory",
  policy: {},
  apiToken: Redacted.make(TOKEN),
  github: undefined,
  bodyLimitBytes: MIB,
  pass: { ...defaultPassSettings, settleMs: 0, leaseWaitMs: 0 },
  drainTimeoutMs: 1_000
})

describe("makeHandler with its default services", () => {
  it("serves from the spec's engines, repo and bus; /readyz names the engine that does not answer", async () => {
    const spec = join(dir, "spec")
    mkdirSync(spec, { recursive: true })
    writeSpec(spec, "handler", defaultApps)
    web = makeHandler({ settings: settings(spec), logRequests: false })
    const health = await web.handler(new Request("http://moor.test/healthz"))
    expect(health.status).toBe(200)
    const ready = await web.handler(new Request("http://moor.test/readyz"))
    expect(ready.status).toBe(503)
    const body = (await ready.json()) as { detail: Record<string, string> }
    expect(body.detail["repo sqlite"]).toBe("ok")
    expect(body.detail["engine local"]).toBe("unreachable")

    // A pass against an engine that is not there: accepted, and it fails saying so.
    const res = await web.handler(
      new Request("http://moor.test/v1/reconcile", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } })
    )
    expect(res.status).toBe(202)
    const accepted = (await res.json()) as { pass: { outcome: string; runs: Array<{ status: string; error: string }> } }
    expect(accepted.pass.outcome).toBe("failed")
    expect(accepted.pass.runs[0]?.error).toMatch(/host local is unknown/)
  })

  it("answers 503 with the spec's problem when the spec cannot be loaded", async () => {
    writeFileSync(join(dir, "README.md"), "not a spec\n")
    web = makeHandler({ settings: settings(dir), logRequests: false })
    const res = await web.handler(new Request("http://moor.test/healthz"))
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: string; detail: string }
    expect(body.error).toBe("moor could not start")
    expect(body.detail).toBe(
      `${dir}: no apps found: a spec holds one directory per app, each with a compose.yaml (or compose.yml, docker-compose.yaml, docker-compose.yml)`
    )
  })
})
