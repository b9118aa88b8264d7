/**
 * `POST /v1/hooks/github` with GitHub's own example deliveries (@octokit/webhooks-examples), signed
 * here with a test secret: signature checks, ping, push (acts only on the configured repository and
 * branch), package / registry_package published, replayed deliveries.
 */
import { Effect, Redacted } from "effect"
import { createRequire } from "node:module"
import { afterEach, describe, expect, it } from "vitest"
import { MemoryEngine } from "../../adapters/docker/memory.ts"
import { signBody } from "../../runners/http/auth.ts"
import { GitError } from "../../runners/http/git.ts"
import {
  authed,
  call,
  defaultApps,
  githubRequest,
  type Harness,
  jsonOf,
  makeHarness,
  newDelivery,
  REPOSITORY,
  SECRET,
  service,
  writeSpec
} from "../support/http-fixture.ts"

interface Definition {
  readonly name: string
  readonly examples: ReadonlyArray<Record<string, unknown>>
}
const definitions = createRequire(import.meta.url)(
  "@octokit/webhooks-examples/api.github.com/index.json"
) as ReadonlyArray<Definition>
const examples = (name: string): ReadonlyArray<Record<string, unknown>> => {
  const found = definitions.find((d) => d.name === name)
  if (found === undefined) throw new Error(`no example deliveries for ${name}`)
  return found.examples
}
const clone = <T>(value: T): T => structuredClone(value)
const example = (name: string, i: number): Record<string, unknown> => {
  const found = examples(name)[i]
  if (found === undefined) throw new Error(`no example ${i} of ${name}`)
  return clone(found)
}

/** GitHub's push example to refs/heads/master of Codertocat/Hello-World. */
const pushToMaster = () => {
  const push = examples("push").find((e) => e.ref === "refs/heads/master")
  if (push === undefined) throw new Error("no push to master among the examples")
  return clone(push)
}
const pushToTag = () => {
  const push = examples("push").find((e) => e.ref === "refs/tags/simple-tag" && e.deleted === false)
  if (push === undefined) throw new Error("no tag push among the examples")
  return clone(push)
}

/** GitHub's container package example, with the tag a real push of `:nightly` carries. */
const containerPublished = (tag: string) => {
  const found = examples("package").find((e) => JSON.stringify(e).includes("container_metadata"))
  if (found === undefined) throw new Error("no container package among the examples")
  const p = clone(found)
  const pkg = p.package as { package_version: { container_metadata: { tag: { name: string } } } }
  pkg.package_version.container_metadata.tag.name = tag
  return p
}

let h: Harness
afterEach(async () => {
  await h.close()
})

const names = async (harness: Harness) =>
  (await harness.run(MemoryEngine.use((e) => e.snapshot("local")))).containers.map((c) => c.name).sort()

describe("signature", () => {
  const ping = () => example("ping", 0)

  it("accepts a delivery signed with the secret", async () => {
    h = await makeHarness()
    const res = await call(h, "/v1/hooks/github", githubRequest("ping", ping()))
    expect(res.status).toBe(200)
    expect(await jsonOf(res)).toMatchObject({ status: "pong", zen: "Anything added dilutes everything else." })
  })

  it.each([
    ["missing", null, "missing X-Hub-Signature-256"],
    [
      "signed with another secret",
      signBody(JSON.stringify({ zen: "x" }), "another-secret-0123456789"),
      "does not match"
    ],
    ["of another body", signBody("{}", SECRET), "does not match"],
    ["with the sha1 prefix (X-Hub-Signature's algorithm)", `sha1=${"a".repeat(40)}`, "must be sha256="],
    ["without an algorithm prefix", "a".repeat(64), "must be sha256="],
    ["not hex", `sha256=${"z".repeat(64)}`, "not 64 hex digits"],
    ["truncated", `sha256=${"a".repeat(63)}`, "not 64 hex digits"]
  ])("refuses a signature %s with 401 and acts on nothing", async (_, signature, detail) => {
    h = await makeHarness()
    const res = await call(h, "/v1/hooks/github", githubRequest("push", pushToMaster(), { signature }))
    expect(res.status).toBe(401)
    const body = await jsonOf(res)
    expect(body.error).toBe("unauthorized")
    expect(String(body.detail)).toContain(detail)
    expect(h.gitCalls).toEqual([])
    expect(await names(h)).toEqual([])
  })

  it("checks the signature over the raw bytes, not re-serialized JSON", async () => {
    h = await makeHarness()
    const raw = `{ "zen" : "spaced out",\n  "hook_id": 1 }`
    const ok = await call(h, "/v1/hooks/github", githubRequest("ping", raw))
    expect(ok.status).toBe(200)
    const tampered = githubRequest("ping", raw)
    const res = await call(h, "/v1/hooks/github", { ...tampered, body: raw.replace("spaced", "spaced ") })
    expect(res.status).toBe(401)
  })
})

describe("ping", () => {
  it.each(examples("ping").map((e, i) => [i, e] as const))("answers GitHub's ping example %i", async (_, example) => {
    h = await makeHarness()
    const res = await call(h, "/v1/hooks/github", githubRequest("ping", example))
    expect(res.status).toBe(200)
    expect(await jsonOf(res)).toMatchObject({ status: "pong", hookId: example.hook_id })
  })
})

describe("push", () => {
  it("to the configured branch updates the checkout, then reconciles the updated spec", async () => {
    h = await makeHarness({
      // The pull brings a new app.
      gitSync: (dir) => () =>
        Effect.sync(() => {
          writeSpec(dir, "httptest", { ...defaultApps, extra: service("server", "moor-http/api:1") })
          return { before: "1".repeat(40), after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246" }
        })
    })
    const res = await call(h, "/v1/hooks/github", githubRequest("push", pushToMaster()))
    expect(res.status).toBe(202)
    const body = await jsonOf(res)
    expect(body).toMatchObject({
      status: "accepted",
      event: "push",
      commit: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      pass: { outcome: "succeeded", apps: "all" }
    })
    expect((body.pass as { notes: Array<string> }).notes[0]).toBe(
      `checkout ${h.dir} updated 111111111111 -> 6113728f27ae`
    )
    expect(h.gitCalls).toEqual([{ dir: h.dir, branch: "master" }])
    expect(await names(h)).toEqual(["api-server-1", "extra-server-1", "hello-main-1", "web-server-1"])
  })

  it("when the checkout cannot be updated, says so and reconciles the spec as it is", async () => {
    h = await makeHarness({
      gitSync: (dir) => () => Effect.fail(new GitError({ op: "fetch", dir, message: "git fetch failed: no route" }))
    })
    const body = (await jsonOf(await call(h, "/v1/hooks/github", githubRequest("push", pushToMaster())))) as {
      pass: { outcome: string; notes: Array<string> }
    }
    expect(body.pass.notes[0]).toBe("the checkout was not updated: git fetch failed: no route")
    expect(body.pass.outcome).toBe("succeeded")
    expect(await names(h)).toHaveLength(3)
  })

  it.each([
    ["a tag", () => pushToTag(), {}, "push to refs/tags/simple-tag, not refs/heads/master"],
    [
      "another branch",
      () => ({ ...pushToMaster(), ref: "refs/heads/feature" }),
      {},
      "push to refs/heads/feature, not refs/heads/master"
    ],
    [
      "another repository",
      () => ({ ...pushToMaster(), repository: { full_name: "Codertocat/Other" } }),
      {},
      `push to Codertocat/Other, not ${REPOSITORY}`
    ],
    ["a deleted branch", () => ({ ...pushToMaster(), deleted: true }), {}, "refs/heads/master was deleted"],
    [
      "any repository when none is configured",
      () => pushToMaster(),
      { repository: undefined },
      "no repository is configured (MOOR_GITHUB_REPOSITORY): pushes are not acted on"
    ]
  ])("ignores a push to %s with 200 and the reason", async (_, payload, github, reason) => {
    h = await makeHarness({
      settings:
        "repository" in github
          ? { github: { secret: Redacted.make(SECRET), repository: undefined, branch: "master", checkout: "." } }
          : {}
    })
    const res = await call(h, "/v1/hooks/github", githubRequest("push", payload()))
    expect(res.status).toBe(200)
    expect(await jsonOf(res)).toEqual({ status: "ignored", reason })
    expect(h.gitCalls).toEqual([])
    expect(await names(h)).toEqual([])
  })

  it("matches the repository name whatever its case, as GitHub does", async () => {
    h = await makeHarness()
    const res = await call(
      h,
      "/v1/hooks/github",
      githubRequest("push", { ...pushToMaster(), repository: { full_name: "codertocat/hello-world" } })
    )
    expect(res.status).toBe(202)
  })

  it("refuses a payload that is not a push with 400 saying what is missing", async () => {
    h = await makeHarness()
    const res = await call(h, "/v1/hooks/github", githubRequest("push", { zen: "not a push" }))
    expect(res.status).toBe(400)
    const body = (await jsonOf(res)) as { error: string; detail: Array<{ path: Array<string> }> }
    expect(body.error).toBe("invalid push payload")
    expect(body.detail.map((d) => d.path)).toEqual(expect.arrayContaining([["ref"], ["repository"]]))
  })
})

describe("package and registry_package", () => {
  it.each(["package", "registry_package"])(
    "%s published: pulls the image and recreates the services that run it",
    async (event) => {
      h = await makeHarness()
      await call(h, "/v1/reconcile", authed({ method: "POST" }))
      const snapshot = async () =>
        new Map(
          (await h.run(MemoryEngine.use((e) => e.snapshot("local")))).containers.map((c) => [c.name, c.id] as const)
        )
      const before = await snapshot()
      await h.run(
        MemoryEngine.use((e) =>
          e.addImage({ ref: "ghcr.io/codertocat/hello-world:nightly", id: `sha256:${"9".repeat(64)}`, remote: true })
        )
      )
      const example = containerPublished("nightly")
      const payload =
        event === "package" ? example : { action: example.action, registry_package: example.package, sender: {} }
      const res = await call(h, "/v1/hooks/github", githubRequest(event, payload))
      expect(res.status).toBe(202)
      expect(await jsonOf(res)).toMatchObject({
        event,
        image: "ghcr.io/codertocat/hello-world:nightly",
        services: [{ host: "local", app: "hello", service: "main" }],
        pass: {
          outcome: "succeeded",
          apps: ["hello"],
          notes: ["pulled ghcr.io/codertocat/hello-world:nightly on local"]
        }
      })
      const after = await snapshot()
      expect(after.get("hello-main-1")).not.toBe(before.get("hello-main-1"))
      expect(after.get("web-server-1")).toBe(before.get("web-server-1"))
    }
  )

  it.each([
    ["npm package (GitHub's example 0)", () => example("package", 0), "not a container image (package type npm)"],
    [
      "container pushed by digest only (GitHub's example 1)",
      () => example("package", 1),
      "was published without a tag (by digest only)"
    ],
    [
      "image no service runs",
      () => containerPublished("v9"),
      "no service in the spec runs ghcr.io/codertocat/hello-world:v9"
    ],
    [
      "updated, not published",
      () => ({ ...containerPublished("nightly"), action: "updated" }),
      "only published packages"
    ]
  ])("ignores a %s with 200 and the reason", async (_, payload, reason) => {
    h = await makeHarness()
    const res = await call(h, "/v1/hooks/github", githubRequest("package", payload()))
    expect(res.status).toBe(200)
    const body = await jsonOf(res)
    expect(body.status).toBe("ignored")
    expect(String(body.reason)).toContain(reason)
    expect(await names(h)).toEqual([])
  })
})

describe("deliveries", () => {
  it("acknowledges a replayed delivery with duplicate: true and acts once", async () => {
    h = await makeHarness()
    const delivery = newDelivery()
    const first = await call(h, "/v1/hooks/github", githubRequest("push", pushToMaster(), { delivery }))
    expect(first.status).toBe(202)
    const again = await call(h, "/v1/hooks/github", githubRequest("push", pushToMaster(), { delivery }))
    expect(again.status).toBe(200)
    expect(await jsonOf(again)).toMatchObject({ status: "duplicate", duplicate: true, delivery })
    expect(h.gitCalls).toHaveLength(1)
    const passes = await h.repo.listRuns({ scope: "httptest", limit: 10 }).pipe(Effect.runPromise)
    expect(passes).toHaveLength(1)
  })

  it.each([
    ["without an X-GitHub-Delivery header", null],
    ["with an empty X-GitHub-Delivery header", " "]
  ])("refuses a signed push %s with 400 and acts on nothing, again and again", async (_, delivery) => {
    h = await makeHarness()
    for (let i = 0; i < 3; i++) {
      const res = await call(h, "/v1/hooks/github", githubRequest("push", pushToMaster(), { delivery }))
      expect(res.status).toBe(400)
      expect(await jsonOf(res)).toMatchObject({ error: "missing X-GitHub-Delivery header" })
    }
    expect(h.gitCalls).toEqual([])
    expect(await h.repo.listRuns({ scope: "httptest", limit: 10 }).pipe(Effect.runPromise)).toEqual([])
  })

  it("a delivery refused (bad payload) can be redelivered; a bad signature does not burn its id", async () => {
    h = await makeHarness()
    const delivery = newDelivery()
    const forged = await call(
      h,
      "/v1/hooks/github",
      githubRequest("push", pushToMaster(), { delivery, secret: "forged-secret-0123456789" })
    )
    expect(forged.status).toBe(401)
    const bad = await call(h, "/v1/hooks/github", githubRequest("push", { ref: 1 }, { delivery }))
    expect(bad.status).toBe(400)
    const good = await call(h, "/v1/hooks/github", githubRequest("push", pushToMaster(), { delivery }))
    expect(good.status).toBe(202)
  })

  it("ignores events moor does not handle, and refuses a missing event name", async () => {
    h = await makeHarness()
    const star = await call(h, "/v1/hooks/github", githubRequest("star", example("star", 0)))
    expect(star.status).toBe(200)
    expect(await jsonOf(star)).toEqual({
      status: "ignored",
      reason: "event star is not handled (moor acts on ping, push, package, registry_package)"
    })
    const init = githubRequest("ping", { zen: "x" })
    const headers = { ...(init.headers as Record<string, string>) }
    delete headers["x-github-event"]
    const missing = await call(h, "/v1/hooks/github", { ...init, headers })
    expect(missing.status).toBe(400)
    expect(await jsonOf(missing)).toMatchObject({ error: "missing or invalid X-GitHub-Event header" })
  })
})
