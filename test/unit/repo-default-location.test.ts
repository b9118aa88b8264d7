/**
 * The default SQLite state: beside an ordinary spec directory, as before; outside a spec kept as a
 * git checkout, where neither a `git reset --hard` (moor serve's update) nor a pushed `.moor/` can
 * overwrite it; and an existing state file inside a checkout is kept in use, and said so, until
 * someone moves it.
 */
import { Effect, Option } from "effect"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { checkoutStateFile, defaultRepo, stateDirectory } from "../../adapters/repo/default-location.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { loadSpec } from "../../runners/cli/context.ts"
import { Git } from "../../runners/http/git.ts"
import { git } from "../support/git.ts"

let root: string
let saved: Record<string, string | undefined>
const COMPOSE = "services:\n  web:\n    image: moor-fixture/app:1\n"

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "moor-default-repo-"))
  saved = { XDG_STATE_HOME: process.env.XDG_STATE_HOME, STATE_DIRECTORY: process.env.STATE_DIRECTORY }
  process.env.XDG_STATE_HOME = join(root, "xdg-state")
  delete process.env.STATE_DIRECTORY
})
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  rmSync(root, { recursive: true, force: true })
})

const flags = {
  scope: Option.none(),
  dockerHost: Option.none(),
  repo: Option.none(),
  json: false,
  quiet: false
}
const repoUrlOf = (spec: string) =>
  Effect.runPromise(
    loadSpec(spec, flags).pipe(
      Effect.map((l) => l.repoUrl),
      Effect.provide(SpecLoader.layerWith({ env: {} }))
    )
  )
const withRepo = <A>(url: string, f: (repo: Repo["Service"]) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.scoped(Repo.use(f).pipe(Effect.provide(Repo.layerFromUrl(url)))))

describe("where the state is kept when nothing says", () => {
  it("beside an ordinary spec directory, as before", () => {
    const spec = join(root, "plain")
    expect(defaultRepo(spec, {})).toEqual({ url: `sqlite:${spec}/.moor/state.db` })
  })

  it("outside a git checkout, in moor's state directory: systemd's, XDG's, then ~/.local/state", () => {
    const checkout = join(root, "infra")
    mkdirSync(join(checkout, ".git"), { recursive: true })
    const spec = join(checkout, "deploy")
    mkdirSync(spec)
    const url = defaultRepo(spec, { XDG_STATE_HOME: "/x/state", HOME: "/home/u" }).url
    expect(url).toMatch(/^sqlite:\/x\/state\/moor\/deploy-[0-9a-f]{12}\/state\.db$/)
    expect(defaultRepo(spec, { STATE_DIRECTORY: "/var/lib/moor", XDG_STATE_HOME: "/x" }).url).toMatch(
      /^sqlite:\/var\/lib\/moor\/deploy-[0-9a-f]{12}\/state\.db$/
    )
    expect(stateDirectory({ HOME: "/home/u" })).toBe("/home/u/.local/state/moor")
    // Two specs, two states.
    mkdirSync(join(checkout, "other"))
    expect(checkoutStateFile(join(checkout, "other"), {})).not.toBe(checkoutStateFile(spec, {}))
  })

  it("an existing state inside the checkout is kept in use and said so, until it is moved", async () => {
    const spec = join(root, "checkout")
    mkdirSync(join(spec, "web"), { recursive: true })
    writeFileSync(join(spec, "web", "compose.yaml"), COMPOSE)
    git(spec, "init", "--quiet")
    const old = join(spec, ".moor", "state.db")
    await withRepo(`sqlite:${old}`, (r) =>
      r.createRun({ id: "kept", trigger: "cli", scope: "s", host: "local", startedAt: 1 })
    )
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true)
    try {
      expect(await repoUrlOf(spec)).toBe(`sqlite:${old}`)
      expect(await repoUrlOf(spec)).toBe(`sqlite:${old}`)
      const said = stderr.mock.calls.map((c) => String(c[0])).join("")
      expect(said.match(/the state is kept in/g)).toHaveLength(1)
      expect(said).toContain(`${old}, inside a git checkout`)
      expect(said).toContain(`mv ${old}* `)
    } finally {
      stderr.mockRestore()
    }
    const moved = checkoutStateFile(spec, process.env)
    mkdirSync(join(moved, ".."), { recursive: true })
    execFileSync("sh", ["-c", `mv "${old}"* "${join(moved, "..")}/"`])
    expect(await repoUrlOf(spec)).toBe(`sqlite:${moved}`)
    expect(await withRepo(`sqlite:${moved}`, (r) => r.getRun("kept"))).toBeDefined()
  })

  it("a push that tracks .moor/state.db and moor serve's git reset --hard leave the state alone", async () => {
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", "origin.git")
    git(root, "clone", "--quiet", "origin.git", "author")
    const author = join(root, "author")
    mkdirSync(join(author, "web"))
    writeFileSync(join(author, "web", "compose.yaml"), COMPOSE)
    git(author, "add", ".")
    git(author, "commit", "--quiet", "-m", "first")
    git(author, "push", "--quiet", "origin", "HEAD:main")
    git(root, "clone", "--quiet", "--branch", "main", "origin.git", "checkout")
    const checkout = join(root, "checkout")

    const url = await repoUrlOf(checkout)
    expect(url.startsWith(`sqlite:${join(root, "xdg-state", "moor")}/`)).toBe(true)
    await withRepo(url, (r) => r.createRun({ id: "r1", trigger: "webhook", scope: "s", host: "local", startedAt: 1 }))

    mkdirSync(join(author, ".moor"))
    writeFileSync(join(author, ".moor", "state.db"), "not a database, pushed by someone")
    git(author, "add", ".")
    git(author, "commit", "--quiet", "-m", "oops, the state")
    git(author, "push", "--quiet", "origin", "HEAD:main")
    const synced = await Effect.runPromise(
      Git.use((g) => g.sync(checkout, "main")).pipe(Effect.provide(Git.layer), Effect.result)
    )
    expect(synced._tag).toBe("Success")
    expect(existsSync(join(checkout, ".moor", "state.db"))).toBe(true)

    expect(await repoUrlOf(checkout)).toBe(url)
    const run = await withRepo(url, (r) => r.getRun("r1"))
    expect(run?.run.id).toBe("r1")
  })
})
