/**
 * The gauntlet's bad-input section, HTTP runner: the web handler (`makeHandler`) over the in-memory
 * engine, repo and bus, fed bad payloads, bad or missing credentials, oversize bodies, replayed
 * deliveries, wrong methods and unknown routes. Each must answer its status with a JSON error
 * saying what is wrong, and nothing may happen: no engine call, no run recorded, no checkout update.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { signBody } from "../../runners/http/auth.ts"
import {
  authed,
  call,
  githubRequest,
  type Harness,
  makeHarness,
  newDelivery,
  REPOSITORY,
  SECRET,
  TOKEN
} from "../support/http-fixture.ts"
import { summary } from "../support/gauntlet.ts"

interface HttpCase {
  readonly name: string
  readonly send: (h: Harness) => Promise<Response>
  readonly status: number
  /** The `error` field, exactly. */
  readonly error: string
  /** A fragment of the `detail` (JSON-encoded when it is not a string). */
  readonly detail?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Runs before the "nothing happened" snapshot (e.g. the delivery that is then replayed). */
  readonly setup?: (h: Harness) => Promise<void>
  /** Changes the harness before the request (e.g. breaks the spec on disk). */
  readonly prepare?: (h: Harness) => void
}

type Body = NonNullable<RequestInit["body"]>
const post = (body: Body, headers: Record<string, string> = {}): RequestInit => ({ method: "POST", body, headers })
const reconcile = (body: Body) => authed(post(body, { "content-type": "application/json" }))
const imageHook = (body: unknown) => authed(post(JSON.stringify(body), { "content-type": "application/json" }))

/** A push to the configured repository and branch: the one delivery that acts. */
const push = {
  ref: "refs/heads/master",
  after: "b".repeat(40),
  before: "a".repeat(40),
  deleted: false,
  repository: { full_name: REPOSITORY }
}

/** A streamed body of `bytes` without a Content-Length. */
const streamed = (bytes: number, headers: Record<string, string>): RequestInit => {
  let sent = 0
  const chunk = new Uint8Array(64 * 1024).fill(32)
  return {
    method: "POST",
    headers,
    duplex: "half",
    body: new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.length
        if (sent > bytes) controller.close()
        else controller.enqueue(chunk)
      }
    })
  } as RequestInit
}

const MIB = 1024 * 1024
const REPLAYED = newDelivery()
const deepJson = `${"[".repeat(200_000)}${"]".repeat(200_000)}`

const cases: ReadonlyArray<HttpCase> = [
  // bad payloads
  {
    name: "reconcile: malformed JSON",
    send: (h) => call(h, "/v1/reconcile", reconcile('{"apps": ["web"]')),
    status: 400,
    error: "malformed JSON",
    detail: "JSON"
  },
  {
    name: "reconcile: a body that is not UTF-8",
    send: (h) => call(h, "/v1/reconcile", reconcile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))),
    status: 400,
    error: "malformed JSON",
    detail: "not valid UTF-8"
  },
  {
    name: "reconcile: 200,000 nested brackets",
    send: (h) => call(h, "/v1/reconcile", reconcile(deepJson)),
    status: 400,
    error: "invalid request body"
  },
  {
    name: "reconcile: apps is a string",
    send: (h) => call(h, "/v1/reconcile", reconcile('{"apps": "web"}')),
    status: 400,
    error: "invalid request body",
    detail: '"path":["apps"]'
  },
  {
    name: "reconcile: apps is empty",
    send: (h) => call(h, "/v1/reconcile", reconcile('{"apps": []}')),
    status: 400,
    error: "invalid request body",
    detail: '"path":["apps"]'
  },
  {
    name: "reconcile: dryRun is a word",
    send: (h) => call(h, "/v1/reconcile", reconcile('{"dryRun": "yes"}')),
    status: 400,
    error: "invalid request body",
    detail: '"path":["dryRun"]'
  },
  {
    name: "reconcile: an unknown key (a typo)",
    send: (h) => call(h, "/v1/reconcile", reconcile('{"app": ["web"]}')),
    status: 400,
    error: "invalid request body",
    detail: '"path":["app"]'
  },
  {
    name: "reconcile: a JSON list instead of an object",
    send: (h) => call(h, "/v1/reconcile", reconcile('["web"]')),
    status: 400,
    error: "invalid request body"
  },
  {
    name: "reconcile: an app name that is not a name",
    send: (h) => call(h, "/v1/reconcile", reconcile('{"apps": ["Web App!"]}')),
    status: 400,
    error: "invalid request body",
    detail: "an app name"
  },
  {
    name: "reconcile: an app the spec does not have",
    send: (h) => call(h, "/v1/reconcile", reconcile('{"apps": ["payments"]}')),
    status: 400,
    error: "unknown apps",
    detail: '"unknown":["payments"]'
  },
  {
    name: "reconcile: the spec on disk is broken",
    prepare: (h) => writeFileSync(join(h.dir, "moor.yaml"), "scope: Bad Scope!\n"),
    send: (h) => call(h, "/v1/reconcile", reconcile("{}")),
    status: 503,
    error: "the spec could not be loaded",
    detail: 'moor.yaml:1:8: scope: "Bad Scope!" is not a valid scope'
  },
  {
    name: "image hook: not an image reference",
    send: (h) => call(h, "/v1/hooks/image", imageHook({ image: "Not An Image!" })),
    status: 400,
    error: "invalid request body",
    detail: "an image reference like"
  },
  {
    name: "image hook: image is a number",
    send: (h) => call(h, "/v1/hooks/image", imageHook({ image: 42 })),
    status: 400,
    error: "invalid request body",
    detail: '"path":["image"]'
  },
  {
    name: "image hook: no image",
    send: (h) => call(h, "/v1/hooks/image", imageHook({})),
    status: 400,
    error: "invalid request body",
    detail: '"path":["image"]'
  },
  {
    name: "image hook: an empty body",
    send: (h) => call(h, "/v1/hooks/image", authed({ method: "POST" })),
    status: 400,
    error: "malformed JSON"
  },
  {
    name: "github: a push with wrong types",
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", { ref: 1, repository: "x" })),
    status: 400,
    error: "invalid push payload",
    detail: '"path":["ref"]'
  },
  {
    name: "github: a push that is not JSON",
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", "ref=refs/heads/master")),
    status: 400,
    error: "malformed JSON"
  },
  {
    name: "github: no event header",
    send: (h) => {
      const init = githubRequest("push", push)
      const headers = { ...(init.headers as Record<string, string>) }
      delete headers["x-github-event"]
      return call(h, "/v1/hooks/github", { ...init, headers })
    },
    status: 400,
    error: "missing or invalid X-GitHub-Event header"
  },
  {
    name: "github: a delivery id that is not a GUID",
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", push, { delivery: "../../etc/passwd" })),
    status: 400,
    error: "invalid X-GitHub-Delivery header"
  },
  // credentials
  {
    name: "reconcile: no token",
    send: (h) => call(h, "/v1/reconcile", post("{}")),
    status: 401,
    error: "unauthorized",
    detail: "missing Authorization header",
    headers: { "www-authenticate": 'Bearer realm="moor"' }
  },
  {
    name: "reconcile: a wrong token",
    send: (h) => call(h, "/v1/reconcile", post("{}", { authorization: `Bearer ${TOKEN}x` })),
    status: 401,
    error: "unauthorized",
    detail: "the bearer token is not valid"
  },
  {
    name: "reconcile: the token in another scheme",
    send: (h) => call(h, "/v1/reconcile", post("{}", { authorization: `Basic ${TOKEN}` })),
    status: 401,
    error: "unauthorized",
    detail: "Bearer <token>"
  },
  {
    name: "runs: no token",
    send: (h) => call(h, "/v1/runs/r20990101-000000-zzzz"),
    status: 401,
    error: "unauthorized"
  },
  {
    name: "image hook: no token",
    send: (h) => call(h, "/v1/hooks/image", post('{"image": "moor-http/web:1"}')),
    status: 401,
    error: "unauthorized"
  },
  {
    name: "github: no signature",
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", push, { signature: null })),
    status: 401,
    error: "unauthorized",
    detail: "missing X-Hub-Signature-256 header"
  },
  {
    name: "github: signed with another secret",
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", push, { secret: `${SECRET}-other` })),
    status: 401,
    error: "unauthorized",
    detail: "the signature does not match the body"
  },
  {
    name: "github: a SHA-1 signature",
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", push, { signature: `sha1=${"0".repeat(40)}` })),
    status: 401,
    error: "unauthorized",
    detail: "must be sha256="
  },
  {
    name: "github: a signature that is not hex",
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", push, { signature: `sha256=${"z".repeat(64)}` })),
    status: 401,
    error: "unauthorized",
    detail: "not 64 hex digits"
  },
  {
    name: "github: a body changed after signing",
    send: (h) => {
      const signature = signBody(JSON.stringify(push), SECRET)
      const tampered = { ...push, ref: "refs/heads/evil" }
      return call(h, "/v1/hooks/github", githubRequest("push", tampered, { signature }))
    },
    status: 401,
    error: "unauthorized",
    detail: "the signature does not match the body"
  },
  // replays
  {
    name: "github: a replayed push delivery",
    setup: async (h) => {
      const first = await call(h, "/v1/hooks/github", githubRequest("push", push, { delivery: REPLAYED }))
      if (first.status !== 202) throw new Error(`the first delivery was not accepted: ${first.status}`)
    },
    send: (h) => call(h, "/v1/hooks/github", githubRequest("push", push, { delivery: REPLAYED })),
    status: 200,
    error: "",
    detail: '"duplicate":true'
  },
  // oversize bodies
  {
    name: "reconcile: a declared body over 1 MiB",
    send: (h) => call(h, "/v1/reconcile", reconcile(JSON.stringify({ apps: ["web"], pad: "x".repeat(MIB) }))),
    status: 413,
    error: "request body too large",
    detail: "the limit is 1 MiB"
  },
  {
    name: "reconcile: a streamed body over 1 MiB",
    send: (h) => call(h, "/v1/reconcile", streamed(8 * MIB, { authorization: `Bearer ${TOKEN}` })),
    status: 413,
    error: "request body too large"
  },
  {
    name: "github: a streamed body over 1 MiB",
    send: (h) =>
      call(
        h,
        "/v1/hooks/github",
        streamed(8 * MIB, { "x-github-event": "push", "x-hub-signature-256": signBody("", SECRET) })
      ),
    status: 413,
    error: "request body too large"
  },
  // methods and routes
  {
    name: "GET /v1/reconcile",
    send: (h) => call(h, "/v1/reconcile", authed()),
    status: 405,
    error: "method not allowed",
    detail: "use POST",
    headers: { allow: "POST" }
  },
  {
    name: "DELETE /v1/runs/:id",
    send: (h) => call(h, "/v1/runs/r1", authed({ method: "DELETE" })),
    status: 405,
    error: "method not allowed",
    headers: { allow: "GET, HEAD" }
  },
  {
    name: "PUT /v1/hooks/github",
    send: (h) => call(h, "/v1/hooks/github", { method: "PUT", body: "{}" }),
    status: 405,
    error: "method not allowed"
  },
  {
    name: "POST /healthz",
    send: (h) => call(h, "/healthz", { method: "POST", body: "{}" }),
    status: 405,
    error: "method not allowed"
  },
  {
    name: "an unknown route",
    send: (h) => call(h, "/v1/deploy", authed({ method: "POST", body: "{}" })),
    status: 404,
    error: "not found",
    detail: "no route POST /v1/deploy"
  },
  {
    name: "a path under a known route",
    send: (h) => call(h, "/v1/reconcile/now", authed({ method: "POST", body: "{}" })),
    status: 404,
    error: "not found"
  },
  {
    name: "runs: an id that is not an id",
    send: (h) => call(h, `/v1/runs/${encodeURIComponent("../../etc/passwd")}`, authed()),
    status: 400,
    error: "invalid id"
  },
  {
    name: "runs: an id that does not exist",
    send: (h) => call(h, "/v1/runs/r20990101-000000-zzzz", authed()),
    status: 404,
    error: "not found",
    detail: "no run or pass with id"
  }
]
/** Everything that would show a pass or a change: engine calls, runs, checkout updates, the last pass. */
const footprint = async (h: Harness) =>
  JSON.stringify({
    calls: await h.engine.calls("local").pipe(Effect.runPromise),
    runs: (await h.repo.listRuns({ limit: 100 }).pipe(Effect.runPromise)).map((r) => r.id),
    git: h.gitCalls.length,
    last: (await h.heartbeat.last.pipe(Effect.runPromise))?.passId ?? null
  })

const results = new Map<string, "clear" | "unclear" | "crash">()
let changed = 0
afterAll(() => {
  const clear = [...results.values()].filter((r) => r === "clear").length
  const crashes = [...results.values()].filter((r) => r === "crash").length
  summary(`bad_input_http ${clear}/${cases.length} clear errors, ${crashes} crashes, ${changed} passes started`)
})

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe("the HTTP runner refuses bad requests and does nothing", () => {
  it.each(cases)("$name: $status", async (c) => {
    h = await makeHarness()
    await c.setup?.(h)
    c.prepare?.(h)
    const before = await footprint(h)
    const logsBefore = h.logs.length
    const res = await c.send(h)
    const text = await res.text()
    let body: Record<string, unknown> | undefined
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      body = undefined
    }
    const after = await footprint(h)
    if (after !== before) changed++
    const crashed = res.status >= 500 && res.status !== 503
    const newLogs = h.logs.slice(logsBefore).join("\n")
    results.set(
      c.name,
      crashed || newLogs.includes("unexpected failure")
        ? "crash"
        : body !== undefined && res.status === c.status && (c.error === "" || body.error === c.error)
          ? "clear"
          : "unclear"
    )

    expect(body, `the answer is not JSON: ${text.slice(0, 200)}`).toBeDefined()
    expect({ status: res.status, error: body?.error }).toEqual({
      status: c.status,
      error: c.error === "" ? undefined : c.error
    })
    expect(res.headers.get("content-type")).toContain("application/json")
    const detail = typeof body?.detail === "string" ? body.detail : JSON.stringify(body)
    if (c.detail !== undefined) expect(detail).toContain(c.detail)
    for (const [name, value] of Object.entries(c.headers ?? {})) expect(res.headers.get(name)).toBe(value)
    expect(text).not.toMatch(/\n\s+at /)
    expect(newLogs).not.toContain("unexpected failure")
    expect(after).toBe(before)
  })
})
