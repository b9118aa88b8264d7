/**
 * Secure by default: no route without its secret, no start without any secret, secrets read as
 * `Redacted` and never in a log line or an answer.
 */
import { ConfigProvider, Effect, Redacted } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { makeHandler } from "../../runners/http/handler.ts"
import {
  envConfig,
  fromEnv,
  routeStatus,
  type ServeSettings,
  settingsFromEnv,
  settingsProblems
} from "../../runners/http/settings.ts"
import {
  authed,
  call,
  githubRequest,
  type Harness,
  jsonOf,
  makeHarness,
  REPOSITORY,
  SECRET,
  TOKEN
} from "../support/http-fixture.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const fromRecord = (env: Record<string, string>) =>
  Effect.runSync(settingsFromEnv.pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))))

describe("settings", () => {
  it("reads the secrets as Redacted from the environment, with the documented defaults", () => {
    const s = fromRecord({
      MOOR_SPEC: "/srv/spec",
      MOOR_API_TOKEN: TOKEN,
      MOOR_GITHUB_WEBHOOK_SECRET: SECRET,
      MOOR_GITHUB_REPOSITORY: REPOSITORY
    })
    expect(Redacted.isRedacted(s.apiToken)).toBe(true)
    expect(s.github).toMatchObject({ repository: REPOSITORY, branch: "main", checkout: "/srv/spec" })
    expect(s.bodyLimitBytes).toBe(1024 * 1024)
    const shown = `${JSON.stringify(s)} ${String(s.apiToken)} ${String(s.github?.secret)}`
    expect(shown).not.toContain(TOKEN)
    expect(shown).not.toContain(SECRET)
    expect(settingsProblems(s)).toEqual([])
  })

  it("refuses to serve with no secret at all, and says what to set", () => {
    const s = fromRecord({})
    expect(settingsProblems(s)).toEqual([
      "nothing to serve: set MOOR_API_TOKEN (for /v1/reconcile, /v1/runs and /v1/hooks/image) and/or MOOR_GITHUB_WEBHOOK_SECRET (for /v1/hooks/github); moor serve has no unauthenticated mode"
    ])
    expect(() => makeHandler({ settings: s })).toThrow(/cannot serve:\n {2}- nothing to serve: set MOOR_API_TOKEN/)
    // An empty variable is no secret either.
    expect(settingsProblems(fromRecord({ MOOR_API_TOKEN: "  " }))).toHaveLength(1)
  })

  it.each([
    ["a short token", { MOOR_API_TOKEN: "short" }, "MOOR_API_TOKEN is too short: use at least 16 characters"],
    ["a short secret", { MOOR_GITHUB_WEBHOOK_SECRET: "short" }, "MOOR_GITHUB_WEBHOOK_SECRET is too short"],
    [
      "a repository without owner",
      { MOOR_GITHUB_WEBHOOK_SECRET: SECRET, MOOR_GITHUB_REPOSITORY: "just-a-name" },
      'the GitHub repository "just-a-name" is not of the form owner/name'
    ],
    [
      "a branch that reads as an option",
      { MOOR_GITHUB_WEBHOOK_SECRET: SECRET, MOOR_GITHUB_BRANCH: "--upload-pack=evil" },
      'the branch "--upload-pack=evil" is not a valid git branch name'
    ]
  ])("names what is wrong: %s", (_, env, problem) => {
    expect(settingsProblems(fromRecord(env)).join("\n")).toContain(problem)
  })

  it("flags override the environment; the checkout defaults to the spec given", () => {
    const env = Effect.runSync(
      Effect.gen(function* () {
        return yield* envConfig
      }).pipe(
        Effect.provide(
          ConfigProvider.layer(
            ConfigProvider.fromEnvRecord({ MOOR_GITHUB_WEBHOOK_SECRET: SECRET, MOOR_GITHUB_BRANCH: "prod" })
          )
        )
      )
    )
    const s = fromEnv(env, { spec: "/srv/other", githubRepository: "acme/infra" })
    expect(s.github).toMatchObject({ repository: "acme/infra", branch: "prod", checkout: "/srv/other" })
  })

  it("a route whose secret is not set is not served, and says why", async () => {
    const tokenOnly: Partial<ServeSettings> = { github: undefined }
    h = await makeHarness({ settings: tokenOnly })
    const hook = await call(h, "/v1/hooks/github", githubRequest("ping", { zen: "x" }))
    expect(hook.status).toBe(404)
    expect(await jsonOf(hook)).toEqual({
      error: "not found",
      detail: "/v1/hooks/github is not served: MOOR_GITHUB_WEBHOOK_SECRET is not set"
    })
    await h.close()

    h = await makeHarness({ settings: { apiToken: undefined } })
    for (const [method, path] of [
      ["POST", "/v1/reconcile"],
      ["GET", "/v1/runs/r1"],
      ["POST", "/v1/hooks/image"]
    ] as const) {
      const res = await call(h, path, authed({ method, ...(method === "POST" ? { body: "{}" } : {}) }))
      expect(res.status).toBe(404)
      expect(await jsonOf(res)).toMatchObject({ detail: `${path} is not served: MOOR_API_TOKEN is not set` })
    }
    expect(routeStatus(fromRecord({ MOOR_GITHUB_WEBHOOK_SECRET: SECRET })).off).toEqual([
      "POST /v1/reconcile, GET /v1/runs/:id, POST /v1/hooks/image (MOOR_API_TOKEN is not set)"
    ])
  })
})

describe("secrets never leak", () => {
  it("neither the token nor the webhook secret appears in any log line or answer", async () => {
    h = await makeHarness()
    const answers: Array<string> = []
    const record = async (res: Promise<Response>) => {
      const r = await res
      answers.push(`${r.status} ${JSON.stringify([...r.headers])} ${await r.text()}`)
    }
    await record(call(h, "/v1/reconcile", authed({ method: "POST" })))
    await record(
      call(h, "/v1/reconcile", { method: "POST", headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } })
    )
    await record(call(h, "/v1/reconcile", { method: "POST", headers: { authorization: `Token ${TOKEN}` } }))
    await record(call(h, "/v1/reconcile", authed({ method: "POST", body: `{"apps": ["web"]` })))
    await record(call(h, "/v1/runs/does-not-exist", authed()))
    await record(call(h, "/v1/hooks/github", githubRequest("ping", { zen: "x" })))
    await record(call(h, "/v1/hooks/github", githubRequest("ping", { zen: "x" }, { secret: `${SECRET}x` })))
    await record(call(h, "/v1/hooks/github", githubRequest("push", { ref: 1 })))
    await record(call(h, "/healthz"))
    await record(call(h, "/metrics"))
    await record(call(h, "/nope"))

    expect(answers).toHaveLength(11)
    expect(h.logs.length).toBeGreaterThan(10)
    expect(h.logs.some((l) => l.includes("starting pass"))).toBe(true)
    expect(h.logs.some((l) => /pass \S+ succeeded/.test(l))).toBe(true)
    const everything = [...h.logs, ...answers].join("\n")
    expect(everything).not.toContain(TOKEN)
    expect(everything).not.toContain(SECRET)
    // Not even recognisable parts of them.
    expect(everything).not.toContain(TOKEN.slice(0, 12))
    expect(everything).not.toContain(SECRET.slice(0, 12))
  })
})
