/**
 * A spec cannot read moor's own settings or the machine's files: `MOOR_*` variables are held back
 * from interpolation and from `environment` names without a value (unless moor.yaml's `env.allow`
 * names them), `env_file` stays inside the spec (unless moor.yaml's `env.env_file_dirs` allows a
 * directory), and an error about a bad `.env` line or a bad interpolation says where, never the value.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Result } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { formatProblem, type LoadedSpec, SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { clearLine, loadCorpus, sameSet } from "../support/bad-input-corpus.ts"

const temps: Array<string> = []
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** A temporary directory holding `files`; the spec is its `spec/` folder unless `files` says otherwise. */
const tempTree = (files: Record<string, string>): string => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "moor-secrets-"))
  temps.push(base)
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(base, rel)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, content)
  }
  return base
}

const MOOR_ENV = {
  HOME: "/root",
  GREETING: "hello",
  MOOR_API_TOKEN: "tok-0123456789abcdef-canary",
  MOOR_REPO: "postgres://moor:pa/ss-canary@db:5432/moor",
  MOOR_REGION: "eu-west"
}

const loadWith = (spec: string, env: Record<string, string> = MOOR_ENV) =>
  Effect.runPromise(
    SpecLoader.use((l) => l.load(spec)).pipe(Effect.result, Effect.provide(SpecLoader.layerWith({ env })))
  )
const load = async (spec: string, env?: Record<string, string>): Promise<LoadedSpec> => {
  const r = await loadWith(spec, env)
  if (Result.isFailure(r)) throw new Error(`expected the spec to load, got: ${r.failure.message}`)
  return r.success
}
const envOf = (spec: LoadedSpec, app = "app"): Record<string, string> => {
  const a = spec.input.apps.find((x) => x.name === app) as { services?: Record<string, { environment?: object }> }
  return (a?.services?.web?.environment ?? {}) as Record<string, string>
}
const everything = (spec: LoadedSpec): string =>
  JSON.stringify([spec.input, spec.invalid, spec.problems.map(formatProblem), spec.warnings.map(formatProblem)])

const app = (environment: string, extra = "") =>
  `services:\n  web:\n    image: moor-fixture/app:1\n    environment:\n${environment}${extra}`

describe("moor's own variables are held back from the spec", () => {
  it("interpolation, names without a value, .env and env files do not see MOOR_*; other variables they do", async () => {
    const base = tempTree({
      "spec/app/compose.yaml": app(
        [
          "      TOKEN: ${MOOR_API_TOKEN}",
          "      REPO: $MOOR_REPO",
          "      FALLBACK: ${MOOR_API_TOKEN:-none}",
          "      MOOR_REPO:",
          "      FROM_DOTENV: ${DOTENV_TOKEN:-unset}",
          "      GREETING:",
          ""
        ].join("\n"),
        "    env_file: app.env\n"
      ),
      "spec/app/.env": "DOTENV_TOKEN=${MOOR_API_TOKEN:-held-back}\n",
      "spec/app/app.env": "MOOR_API_TOKEN\nFILE_REPO=${MOOR_REPO:-held-back}\n"
    })
    const spec = await load(path.join(base, "spec"))
    expect(envOf(spec)).toEqual({
      TOKEN: "",
      REPO: "",
      FALLBACK: "none",
      FROM_DOTENV: "held-back",
      FILE_REPO: "held-back",
      GREETING: "hello"
    })
    expect(everything(spec)).not.toContain("canary")
    expect(spec.warnings.map((w) => w.message)).toContain(
      "variable MOOR_API_TOKEN is not set; it becomes an empty string"
    )
  })

  it("moor.yaml's env.allow lets the names it lists through, and only those", async () => {
    const base = tempTree({
      "spec/moor.yaml": "scope: allowed\nenv:\n  allow: [MOOR_REGION]\n",
      "spec/app/compose.yaml": app("      REGION: ${MOOR_REGION}\n      TOKEN: ${MOOR_API_TOKEN:-held-back}\n")
    })
    expect(envOf(await load(path.join(base, "spec")))).toEqual({ REGION: "eu-west", TOKEN: "held-back" })
  })

  it.each([
    ["allow: [HOME]", "2:11", "env.allow[0]", "HOME does not start with MOOR_"],
    ['allow: ["MOOR BAD"]', "2:11", "env.allow[0]", '"MOOR BAD" is not a variable name'],
    ["allow: MOOR_REGION", "2:10", "env.allow", "expected a list"],
    ["alow: [MOOR_REGION]", "2:3", "env.alow", 'unknown key "env.alow" (did you mean "env.allow"?)'],
    ['env_file_dirs: [""]', "2:19", "env.env_file_dirs[0]", "the directory is empty"]
  ])("refuses moor.yaml's env with %s at its line and column", async (entry, where, key, says) => {
    const base = tempTree({
      "spec/moor.yaml": `env:\n  ${entry}\n`,
      "spec/app/compose.yaml": app("      A: b\n")
    })
    const r = await loadWith(path.join(base, "spec"))
    if (Result.isSuccess(r)) throw new Error("expected the spec to be refused")
    const text = r.failure.problems.map(formatProblem).join("\n")
    expect(text).toContain(`${path.join(base, "spec", "moor.yaml")}:${where}: ${key}: ${says}`)
  })
})

describe("env_file stays inside the spec", () => {
  const outside = { "secret.env": "LEAKED=canary-outside-the-spec\n" }

  it.each([
    ["an absolute path", (base: string) => path.join(base, "secret.env")],
    ["a path up out of the spec", () => "../../secret.env"]
  ])("refuses %s, saying where and how to allow it", async (_what, file) => {
    const base = tempTree({ ...outside, "spec/app/compose.yaml": "" })
    fs.writeFileSync(path.join(base, "spec/app/compose.yaml"), app("      A: b\n", `    env_file: ${file(base)}\n`))
    const spec = await load(path.join(base, "spec"))
    expect(spec.invalid.map((a) => a.name)).toEqual(["app"])
    expect(spec.problems.map(formatProblem)).toEqual([
      `${path.join(base, "spec/app/compose.yaml")}:6:15: services.web.env_file: env file ${file(base)}: it is outside the spec (it resolves to ${fs.realpathSync(path.join(base, "secret.env"))}), and a spec reads no file outside its own directory: move the file into the spec, or allow its directory in moor.yaml with env: { env_file_dirs: [${fs.realpathSync(base)}] }`
    ])
    expect(everything(spec)).not.toContain("canary")
  })

  it("refuses a symlink inside the spec that leads out of it", async () => {
    const base = tempTree({ ...outside, "spec/app/compose.yaml": app("      A: b\n", "    env_file: linked.env\n") })
    fs.symlinkSync(path.join(base, "secret.env"), path.join(base, "spec/app/linked.env"))
    const spec = await load(path.join(base, "spec"))
    expect(spec.problems.map((p) => p.message).join("\n")).toContain("env file linked.env: it is outside the spec")
    expect(everything(spec)).not.toContain("canary")
  })

  it("reads a file shared at the spec root, a symlinked app directory's own files, and an allowed directory", async () => {
    const base = tempTree({
      ...outside,
      "spec/moor.yaml": `env:\n  env_file_dirs: [../shared]\n`,
      "spec/shared.env": "SHARED=root\n",
      "spec/app/compose.yaml": app("      A: b\n", "    env_file: [../shared.env, ../../shared/extra.env]\n"),
      "shared/extra.env": "EXTRA=allowed\n",
      "elsewhere/linked/compose.yaml": `services:\n  web:\n    image: moor-fixture/app:1\n    env_file: own.env\n`,
      "elsewhere/linked/own.env": "OWN=yes\n"
    })
    fs.symlinkSync(path.join(base, "elsewhere/linked"), path.join(base, "spec/linked"))
    const spec = await load(path.join(base, "spec"))
    expect(spec.problems.map(formatProblem)).toEqual([])
    expect(envOf(spec)).toEqual({ A: "b", EXTRA: "allowed", SHARED: "root" })
    expect(envOf(spec, "linked")).toEqual({ OWN: "yes" })
  })
})

describe("errors about a bad .env line or a bad interpolation say where, never the value", () => {
  const secret = "s3cr3t-canary-value"
  it.each([
    [".env line without =", { "spec/app/.env": `A=1\n${secret} oops\n` }, ".env:2", "expected KEY=value"],
    [
      ".env text after a quote",
      { "spec/app/.env": `A="x" ${secret}\n` },
      ".env:1",
      "unexpected text after the closing quote of A's value"
    ],
    ["env file line", { "spec/app/e.env": `B=2\n${secret}-oops x\n` }, "e.env, line 2", "expected KEY=value"],
    [
      "lone $",
      { "spec/app/compose.yaml": app(`      PASSWORD: "${secret}$"\n`) },
      "compose.yaml:5:17",
      'the "$" at character 20 of the value'
    ],
    [
      "unclosed ${",
      { "spec/app/compose.yaml": app(`      PASSWORD: "${secret}\${X"\n`) },
      "compose.yaml:5:17",
      'unterminated "${" (character 20 of the value)'
    ],
    [
      "bad operator",
      { "spec/app/compose.yaml": app(`      PASSWORD: "\${X!${secret}}"\n`) },
      "compose.yaml:5:17",
      "invalid interpolation of X (character 4 of the value)"
    ],
    [
      "list entry without a name",
      { "spec/app/compose.yaml": app(`      - "=${secret}"\n`) },
      "compose.yaml:5:9",
      'the entry has no name before "="'
    ]
  ])("%s", async (_what, files, where, says) => {
    const base = tempTree({
      "spec/app/compose.yaml": app("      A: b\n", "    env_file: [{ path: e.env, required: false }]\n"),
      ...files
    })
    const spec = await load(path.join(base, "spec"))
    const text = spec.problems.map(formatProblem).join("\n")
    expect(text).toContain(where)
    expect(text).toContain(says)
    expect(everything(spec)).not.toContain("canary")
  })

  it("the corpus cases about secrets give their clear line through the loader", async () => {
    const cases = loadCorpus().filter((c) =>
      ["env-file-outside", "moor-env-allow-not-moor", "dotenv-broken", "interpolation-lone-dollar"].includes(c.slug)
    )
    expect(cases).toHaveLength(4)
    for (const c of cases) {
      const r = await loadWith(c.dir, { HOME: "/root" })
      const complaints =
        c.expect.outcome === "refused"
          ? Result.isSuccess(r)
            ? ["loaded"]
            : clearLine(r.failure.problems.map(formatProblem).join("\n"), c.expect, c.dir)
          : Result.isFailure(r)
            ? [r.failure.message]
            : [
                ...clearLine(r.success.problems.map(formatProblem).join("\n"), c.expect, c.dir),
                ...sameSet(
                  "skipped",
                  r.success.invalid.map((a) => a.name),
                  c.expect.skipped ?? []
                )
              ]
      expect(complaints, c.slug).toEqual([])
    }
  })
})
