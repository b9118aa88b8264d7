/** Choosing the repository from a URL or from MOOR_REPO, and the errors a bad one gives. */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Result } from "effect"
import { afterAll } from "vitest"
import { defaultRepo, parseRepoUrl, Repo } from "../../adapters/repo/Repo.ts"

const dir = mkdtempSync(join(tmpdir(), "moor-repo-url-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const parsed = (url: string) => {
  const result = parseRepoUrl(url)
  return Result.isSuccess(result) ? result.success : { error: result.failure.message }
}

describe("parseRepoUrl", () => {
  it("reads the three kinds", () => {
    expect(parsed("memory")).toEqual({ _tag: "memory" })
    expect(parsed("sqlite::memory:")).toEqual({ _tag: "memory" })
    expect(parsed("sqlite:.moor/state.db")).toEqual({ _tag: "sqlite", filename: ".moor/state.db" })
    expect(parsed("sqlite:///srv/moor/state.db")).toEqual({ _tag: "sqlite", filename: "/srv/moor/state.db" })
    expect(parsed("postgres://moor:pw@db:5432/moor")).toEqual({
      _tag: "postgres",
      url: "postgres://moor:pw@db:5432/moor",
      schema: undefined
    })
    expect(parsed("postgresql://moor:pw@db/moor?schema=ops_1&sslmode=disable")).toEqual({
      _tag: "postgres",
      url: "postgresql://moor:pw@db/moor?sslmode=disable",
      schema: "ops_1"
    })
  })

  it("says what is wrong and what would work, without showing a password", () => {
    const cases: Array<[string, string]> = [
      ["", "it is empty"],
      ["mysql://root:secret@db/moor", "unsupported kind of repository"],
      ["sqlite:", "the SQLite file path is missing"],
      ["postgres://moor:secret@db/moor?schema=1x", 'schema "1x"'],
      ["postgres://moor:secret@[bad/moor", "not a valid URL"]
    ]
    for (const [url, what] of cases) {
      const result = parsed(url)
      expect(result).toHaveProperty("error")
      const message = (result as { error: string }).error
      expect(message).toContain(what)
      expect(message).toContain("use sqlite:PATH, postgres://")
      expect(message).not.toContain("secret")
    }
  })

  it("defaults to a file under the spec root (outside a git checkout)", () => {
    expect(defaultRepo("/srv/specs/")).toEqual({ url: "sqlite:/srv/specs/.moor/state.db" })
  })
})

describe("Repo.layerFromUrl / layerFromEnv", () => {
  it.effect("a bad URL fails the layer with a RepoError of kind invalid", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Repo.use((r) => r.ping).pipe(Effect.provide(Repo.layerFromUrl("redis://x"))))
      expect(error._tag).toBe("RepoError")
      expect(error.kind).toBe("invalid")
    })
  )

  it.effect("memory works and is empty each time", () =>
    Effect.gen(function* () {
      const count = Repo.use((r) => Effect.map(r.listRuns({ limit: 10 }), (runs) => runs.length))
      yield* Repo.use((r) => r.createRun({ id: "x", trigger: "cli", scope: "s", host: "h", startedAt: 1 })).pipe(
        Effect.provide(Repo.layerFromUrl("memory"))
      )
      expect(yield* count.pipe(Effect.provide(Repo.layerFromUrl("memory")))).toBe(0)
    })
  )

  it.effect("without MOOR_REPO, the file is <specRoot>/.moor/state.db", () =>
    Effect.gen(function* () {
      const root = join(dir, "spec-a")
      const backend = yield* Repo.use((r) => Effect.succeed(r.backend)).pipe(
        Effect.provide(Repo.layerFromEnv(root)),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({})))
      )
      expect(backend).toBe("sqlite")
      expect(existsSync(join(root, ".moor", "state.db"))).toBe(true)
    })
  )

  it.effect("MOOR_REPO wins over the default", () =>
    Effect.gen(function* () {
      const root = join(dir, "spec-b")
      const file = join(dir, "elsewhere", "moor.db")
      yield* Repo.use((r) => r.ping).pipe(
        Effect.provide(Repo.layerFromEnv(root)),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ MOOR_REPO: `sqlite:${file}` })))
      )
      expect(existsSync(file)).toBe(true)
      expect(existsSync(join(root, ".moor"))).toBe(false)
    })
  )
})
