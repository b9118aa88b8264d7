/**
 * No environment value of a service leaves moor in clear text: the plan as JSON (every output edge
 * goes through `planForOutput`), the plan as text, an action's error and a hook's output (redacted
 * by the executor before anyone records, publishes or prints them). And no password of a URL, even
 * one holding `/`: repository URLs, bus URLs, git's errors.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseBusUrl, targetsOf } from "../../adapters/bus/config.ts"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { parseRepoUrl } from "../../adapters/repo/url.ts"
import { describe as describePlan } from "../../core/describe.ts"
import type { DesiredState } from "../../core/model/desired.ts"
import { plan } from "../../core/plan/plan.ts"
import { maskUrls, planForOutput, secretsOfDesired, textRedactor, valueDigest } from "../../core/redact.ts"
import { execute } from "../../runners/execute/executor.ts"
import { Git } from "../../runners/http/git.ts"
import { app, desired, policy, svc } from "../support/core-fixtures.ts"

const IMAGE = "moor-test/plain:1"
const SCOPE = "secrets"
const CANARY = "canary-7f3a9c1e5b"
const engine = () => DockerMemory.layer({ images: [{ ref: IMAGE }] })
const options = { scope: SCOPE, retryBaseMs: 1, callTimeoutMs: 5_000 }

const withSecret = (value: string) => app("db", { s: svc(IMAGE, { environment: { DB_PASSWORD: value, MODE: "on" } }) })

/** db (with `secret`) and api, which requires db with an on_start hook running `content`. */
const withHook = (content: string, secret = CANARY) =>
  desired(
    [
      withSecret(secret),
      app("api", { s: svc(IMAGE) }, { requires: [{ app: "db", onStart: { script: "hooks/add.sh", content } }] })
    ],
    { scope: SCOPE }
  )

const planOf = (d: DesiredState) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    return plan(d, { now: 0, hosts: [yield* docker.observe("local", SCOPE)] }, policy())
  })

describe("the plan as it leaves moor", () => {
  it.live("as JSON: each value a digest (same value, same digest), for creates, replacements and hooks", () =>
    Effect.gen(function* () {
      const first = desired([withSecret(CANARY)], { scope: SCOPE })
      const created = yield* planOf(first)
      const json = JSON.stringify(planForOutput(created))
      expect(json).not.toContain(CANARY)
      expect(json).toContain(JSON.stringify(["DB_PASSWORD", valueDigest(CANARY)]))
      expect(JSON.stringify(planForOutput(created, { showValues: true }))).toContain(CANARY)

      yield* execute(created, options)
      const replaced = yield* planOf(withHook("exit 0", `${CANARY}-2`))
      expect(replaced.actions.map((a) => a._tag)).toContain("recreate")
      expect(replaced.actions.map((a) => a._tag)).toContain("run-hook")
      const again = JSON.stringify(planForOutput(replaced))
      expect(again).not.toContain(CANARY)
      expect(again).toContain(valueDigest(`${CANARY}-2`))
      expect(again).not.toContain(`"MOOR_CONSUMER_APP":"api"`)
      expect(again).toContain(`"MOOR_CONSUMER_APP":"${valueDigest("api")}"`)
    }).pipe(Effect.provide(engine()))
  )

  it.live("as text: no value, unless a person asked for them (--show-values)", () =>
    Effect.gen(function* () {
      const p = yield* planOf(desired([withSecret(CANARY)], { scope: SCOPE }))
      expect(describePlan(p)).not.toContain(CANARY)
      expect(describePlan(p, { showValues: true })).toContain(`      env DB_PASSWORD=${CANARY}`)
    }).pipe(Effect.provide(engine()))
  )

  it("every runner prints plans through planForOutput, never encodePlan itself", () => {
    const files = (dir: string): Array<string> =>
      readdirSync(dir).flatMap((f) => {
        const p = join(dir, f)
        return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : []
      })
    const offenders = files("runners").filter((f) => /\bencodePlan\b/.test(readFileSync(f, "utf8")))
    expect(offenders).toEqual([])
  })
})

describe("errors and hook output, redacted by the executor", () => {
  it.live("a failing hook that prints the provider's environment: values redacted, names kept", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryEngine
      const provider = desired([withSecret(CANARY)], { scope: SCOPE })
      yield* execute(yield* planOf(provider), options)
      // The provider is unchanged: the plan creates nothing whose environment holds the value.
      const d = withHook("env; exit 1")
      const p = yield* planOf(d)
      expect(p.actions.some((a) => a._tag === "create" && a.app === "db")).toBe(false)
      yield* memory.scriptExec({ result: { exitCode: 1, output: `DB_PASSWORD=${CANARY}\nMODE=on\n` } })
      const results = yield* execute(p, { ...options, secrets: secretsOfDesired(d) })
      const hook = results.find((r) => r.action._tag === "run-hook")
      expect(hook?.outcome).toBe("failed")
      expect(hook?.error).toBe("hook hooks/add.sh exited with 1: DB_PASSWORD=[redacted DB_PASSWORD]\nMODE=on")
      expect(JSON.stringify(results.map((r) => [r.error, r.output]))).not.toContain(CANARY)
    }).pipe(Effect.provide(engine()))
  )

  it.live("a hook's output and an engine's error that echo a value the plan creates", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryEngine
      const d = withHook("env")
      yield* memory.scriptExec({ result: { exitCode: 0, output: `password is ${CANARY}\n` } })
      const hooked = yield* execute(yield* planOf(d), options)
      expect(hooked.find((r) => r.action._tag === "run-hook")?.output).toBe("password is [redacted DB_PASSWORD]\n")

      const web = desired([app("web", { s: svc(IMAGE, { environment: { API_KEY: `${CANARY}-web` } }) })], {
        scope: SCOPE
      })
      yield* memory.failNext({ op: "container.create", kind: "rejected", message: `bad env API_KEY=${CANARY}-web` })
      const failed = yield* execute(yield* planOf(web), options)
      const create = failed.find((r) => r.action._tag === "create")
      expect(create?.outcome).toBe("failed")
      expect(create?.error).toContain("bad env API_KEY=[redacted API_KEY]")
      expect(JSON.stringify([...hooked, ...failed].map((r) => [r.error, r.output]))).not.toContain(CANARY)
    }).pipe(Effect.provide(engine()))
  )

  it.each([
    ["output", 0, 4096],
    ["error", 1, 1000]
  ] as const)(
    "a long hook output cut to its last KiB: no part of a value where it is cut (%s)",
    (what, exitCode, kept) =>
      Effect.gen(function* () {
        const memory = yield* MemoryEngine
        const d = withHook("x")
        // The value straddles the cut: its first 6 characters are before the part kept.
        const output = `${"a".repeat(5000)}${CANARY}${"b".repeat(kept - CANARY.length + 6)}`
        yield* memory.scriptExec({ result: { exitCode, output } })
        const results = yield* execute(yield* planOf(d), options)
        const hook = results.find((r) => r.action._tag === "run-hook")
        const text = (what === "output" ? hook?.output : hook?.error) ?? ""
        expect(text).toMatch(/\.\.\..*b{900}$/)
        const pieces = Array.from({ length: CANARY.length - 5 }, (_, i) => CANARY.slice(i, i + 6))
        expect(pieces.filter((p) => text.includes(p))).toEqual([])
      }).pipe(Effect.provide(engine()), Effect.runPromise)
  )

  it("text that starts inside a value (its start was cut off) has that part masked", () => {
    const redact = textRedactor([["DB_PASSWORD", CANARY]])
    expect(redact(`${CANARY.slice(4)}\nMODE=on`)).toBe("[redacted DB_PASSWORD]\nMODE=on")
    expect(redact(`${CANARY.slice(-5)} and more`)).toBe(`${CANARY.slice(-5)} and more`)
  })

  it("short values are not looked for in text; longer ones wherever they are, the longest first", () => {
    const redact = textRedactor([
      ["PORT", "8080"],
      ["TOKEN", "abcdef"],
      ["LONG", "abcdef-ghij"]
    ])
    expect(redact("port 8080, token abcdef, long abcdef-ghij")).toBe(
      "port 8080, token [redacted TOKEN], long [redacted LONG]"
    )
  })
})

describe("passwords in URLs, even with a '/'", () => {
  it.each([
    ["postgres://moor:pa/ss@db:5432/moor", "postgres://moor:***@db:5432/moor"],
    ["postgres://moor:p@ss/w:rd@db/moor?schema=x", "postgres://moor:***@db/moor?schema=x"],
    ["nats://tok/en@127.0.0.1:4222", "nats://***@127.0.0.1:4222"],
    ["webhook+https://u:pa/ss@hooks.example.com/x", "webhook+https://u:***@hooks.example.com/x"],
    [
      "fatal: unable to access 'https://user:pa/ss@github.com/o/r.git/': bad",
      "fatal: unable to access 'https://user:***@github.com/o/r.git/': bad"
    ],
    ["ssh://deploy@host:22", "ssh://deploy@host:22"],
    ["https://example.com/path", "https://example.com/path"]
  ])("%s", (raw, shown) => expect(maskUrls(raw)).toBe(shown))

  it("in the repository's, the bus's and git's errors", async () => {
    const repo = parseRepoUrl("postgres://moor:pa/ss-canary@db:5432/moor?schema=1bad")
    expect(Result.isFailure(repo) && repo.failure.message).toContain("postgres://moor:***@db:5432/moor")
    const bus = parseBusUrl("nats://moor:pa/ss-canary@127.0.0.1:4222/x")
    expect(Result.isFailure(bus) && bus.failure).toContain("nats://moor:***@127.0.0.1:4222/x")
    const hook = targetsOf({
      bus: "memory",
      webhookUrl: { _tag: "Some", value: "https://u:pa/ss-canary@" } as never,
      webhookSecret: { _tag: "None" } as never,
      timeoutMs: 1000
    })
    expect(Result.isFailure(hook) && hook.failure).toContain("https://u:***@")

    const checkout = mkdtempSync(join(tmpdir(), "moor-git-mask-"))
    try {
      const git = (...args: Array<string>) => execFileSync("git", ["-C", checkout, ...args], { stdio: "ignore" })
      git("init", "-q")
      git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x")
      git("remote", "add", "origin", "https://user:pa/ss-canary@127.0.0.1:9/x.git")
      const failed = await Effect.runPromise(
        Git.use((g) => g.sync(checkout, "main")).pipe(Effect.flip, Effect.provide(Git.layer))
      )
      expect(failed.message).toContain("unable to access")
      expect(failed.message).toContain("https://user:***@127.0.0.1:9/x.git")
    } finally {
      rmSync(checkout, { recursive: true, force: true })
    }
    expect(JSON.stringify([repo, bus, hook])).not.toContain("canary")
  })
})
