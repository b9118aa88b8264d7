/**
 * The gauntlet's bad-input section, HTTP runner and the spec corpus: the web handler (over the
 * in-memory engine, repo and bus) serving each malformed spec of test/fixtures/bad-specs, asked for
 * a dry run by `POST /v1/reconcile`. A spec that cannot be used answers 503 with the error naming
 * the file, the place and what to do; a spec with bad apps answers with a plan that skips only them,
 * for the reason the error gives. Nothing may change: no write to the engine, no run recorded.
 */
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { EngineCall } from "../../adapters/docker/translate-error.ts"
import { type BadCase, clearLine, loadCorpus, materialize, sameSet } from "../support/bad-input-corpus.ts"
import { summary } from "../support/gauntlet.ts"
import { authed, call, type Harness, makeHarness } from "../support/http-fixture.ts"

const cases = loadCorpus()

/** Engine calls that only look: a dry run makes no other. */
const READS: ReadonlySet<EngineCall> = new Set<EngineCall>([
  "ping",
  "containers.list",
  "volumes.list",
  "networks.list",
  "images.list",
  "container.inspect",
  "container.logs",
  "events"
])

/** What a request may not change: the engine's objects, the engine calls that write, the runs. */
const footprint = async (h: Harness) => {
  const snapshot = await h.engine.snapshot("local").pipe(Effect.runPromise)
  const calls = await h.engine.calls("local").pipe(Effect.runPromise)
  const runs = await h.repo.listRuns({ limit: 100 }).pipe(Effect.runPromise)
  return {
    objects: JSON.stringify([snapshot.containers, snapshot.volumes, snapshot.networks]),
    writes: Object.keys(calls).filter((c) => !READS.has(c as EngineCall)),
    runs: runs.map((r) => r.id)
  }
}

interface PlanAction {
  readonly _tag: string
  readonly app: string
  readonly reason?: string
}

const results = new Map<string, "clear" | "unclear" | "crash">()
let changed = 0
afterAll(() => {
  const clear = [...results.values()].filter((r) => r === "clear").length
  const crashes = [...results.values()].filter((r) => r === "crash").length
  summary(`bad_input_http_specs ${clear}/${cases.length} clear errors, ${crashes} crashes, ${changed} engine changes`)
})

describe("the HTTP runner serving a malformed spec: POST /v1/reconcile (dry run)", () => {
  it.each(cases)("$slug: $expect.what", async (c: BadCase) => {
    const m = materialize(c)
    const h = await makeHarness({ settings: { spec: m.spec } })
    try {
      const e = c.expect
      const before = await footprint(h)
      const res = await call(
        h,
        "/v1/reconcile",
        authed({ method: "POST", body: '{"dryRun": true}', headers: { "content-type": "application/json" } })
      )
      const text = await res.text()
      const after = await footprint(h)
      const complaints: Array<string> = []
      let body: Record<string, unknown> = {}
      try {
        body = JSON.parse(text) as Record<string, unknown>
      } catch {
        complaints.push(`the answer is not JSON: ${text.slice(0, 200)}`)
      }
      const crashed = (res.status >= 500 && res.status !== 503) || /\n\s+at /.test(text)
      if (e.outcome === "refused") {
        if (res.status !== 503 || body.error !== "the spec could not be loaded")
          complaints.push(`answered ${res.status} ${String(body.error)}, expected 503 "the spec could not be loaded"`)
        complaints.push(...clearLine(typeof body.detail === "string" ? body.detail : "", e, m.root))
      } else if (res.status !== 200) {
        complaints.push(`answered ${res.status} ${text.slice(0, 300)}: only the bad apps should be left out`)
      } else {
        const plan = body.plan as { readonly actions?: ReadonlyArray<PlanAction> } | undefined
        const actions = plan?.actions ?? []
        const skips = actions.filter((a) => a._tag === "skip")
        complaints.push(
          ...sameSet(
            "apps the plan skips",
            skips.map((a) => a.app),
            e.skipped ?? []
          ),
          ...sameSet(
            "apps the plan acts on",
            actions.filter((a) => a._tag !== "skip").map((a) => a.app),
            e.planned ?? []
          ),
          ...clearLine(skips.map((a) => a.reason ?? "").join("\n"), e, m.root).map((x) => `the skip reason: ${x}`)
        )
      }
      const unchanged = after.objects === before.objects && after.writes.length === 0 && after.runs.length === 0
      if (!unchanged) {
        changed++
        complaints.push(`something changed: ${JSON.stringify(after)}`)
      }
      results.set(c.slug, crashed ? "crash" : complaints.length === 0 ? "clear" : "unclear")
      expect(crashed, text).toBe(false)
      expect(complaints).toEqual([])
    } finally {
      await h.close()
      m.remove()
    }
  })
})
