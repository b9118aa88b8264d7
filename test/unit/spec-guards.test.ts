/**
 * The loader's answers to hostile or broken files found by the bad-input gauntlet: nesting and
 * alias bombs refused fast with one sentence, YAML syntax errors pointing at the mistake and saying
 * what to do, and the problems only visible across files (a host port published twice, a
 * `requires` cycle) reported at their line instead of only skipping the apps.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Option, Result } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { formatProblem, type LoadedSpec, SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { parseCompose } from "../../adapters/spec/compose-app.ts"
import { loadSpec } from "../../adapters/spec/load.ts"
import { nodeSpecFs } from "../../adapters/spec/spec-fs.ts"
import { excessiveNesting, MAX_DEPTH } from "../../adapters/spec/yaml-guard.ts"
import { parseYaml } from "../../adapters/spec/yaml-tree.ts"
import { loadSpec as loadCliSpec } from "../../runners/cli/context.ts"

const FILE = "spec/app/compose.yaml"
const errors = (text: string): Array<string> =>
  parseCompose({
    text,
    file: FILE,
    dir: "/nowhere/app",
    dirName: "app",
    env: {},
    hosts: [{ name: "local" }],
    readFile: () => Result.fail("missing")
  }).problems.map(formatProblem)

const web = (extra: string) => `services:\n  web:\n    image: moor-fixture/app:1\n${extra}`

describe("nesting and alias bombs", () => {
  it("refuses 500,000 nested brackets at once, at the bracket past the limit", () => {
    const text = `x-deep: ${"[".repeat(500_000)}${"]".repeat(500_000)}\n`
    const t0 = performance.now()
    const { root, errors: found } = parseYaml(text)
    expect(performance.now() - t0).toBeLessThan(2_000)
    expect(root).toBeUndefined()
    expect(found).toEqual([
      {
        pos: { line: 1, column: 9 + MAX_DEPTH },
        message: `the document is nested more than ${MAX_DEPTH} levels deep; a Compose file needs far fewer: flatten it`
      }
    ])
  })
  it("counts compact sequences (- - - x) as levels too", () => {
    expect(excessiveNesting(`a:\n  ${"- ".repeat(MAX_DEPTH + 1)}x\n`)).toBeDefined()
    expect(excessiveNesting(`a:\n  ${"- ".repeat(MAX_DEPTH - 1)}x\n`)).toBeUndefined()
  })
  it("does not count brackets inside strings", () => {
    const many = "[".repeat(MAX_DEPTH * 2)
    expect(excessiveNesting(`a: "${many}"\nb: '${many}'\nc: echo ${many}\n# ${many}\n`)).toBeUndefined()
    expect(parseYaml(`a: "${many}"\n`).errors).toEqual([])
  })
  it("says 'nested too deeply' where the parser itself runs out of stack (deep indentation)", () => {
    const text = `${Array.from({ length: 1_200 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n")} x\n`
    const found = parseYaml(text).errors
    expect(found).toHaveLength(1)
    expect(found[0]?.message).toContain("nested more than")
    expect(found.map((e) => e.message).join()).not.toContain("call stack")
  })
  it("stops an alias bomb with one error, without expanding it", () => {
    const lines = ['x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for (const [i, l] of [..."bcdefghi"].entries())
      lines.push(`x-${l}: &${l} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(", ")}]`)
    const t0 = performance.now()
    const found = errors(`${lines.join("\n")}\n${web("")}`)
    expect(performance.now() - t0).toBeLessThan(2_000)
    expect(found).toHaveLength(1)
    expect(found[0]).toContain("expands to more than 200000 values through its aliases")
  })
  it("says how to fix an alias without its anchor", () => {
    expect(errors(web("    environment: *common\n"))).toEqual([
      `${FILE}:4:18: unresolved alias *common: define the anchor &common before this line`
    ])
  })
})

describe("control characters (binary garbage, terminal escapes) are refused at their place", () => {
  it("names the character, its line and column, and how to write it instead", () => {
    expect(errors(web('    environment:\n      BANNER: "\u001b[2Jhello"\n'))).toEqual([
      `${FILE}:5:16: the control character U+001B is not allowed in YAML: remove it, or write it as "\\u001b" in a double-quoted string`
    ])
    expect(errors(`services:\n  w\u0007eb: {}\n`)[0]).toContain(`${FILE}:2:4: the control character U+0007`)
    expect(errors(`x-a: "\u009b"\n`)[0]).toContain("U+009B")
  })
  it("lets through what YAML allows: tabs in values, CRLF, NEL and any printable Unicode", () => {
    expect(parseYaml('a: "tab\there"\r\nb: \u0085 é 😀\n').errors).toEqual([])
  })
})

describe("YAML syntax errors point at the mistake and say what to do", () => {
  it("an unclosed quote: at the opening quote, not at the end of the file", () => {
    expect(errors('services:\n  web:\n    image: "moor-fixture/app:1\n    restart: always\n')).toEqual([
      `${FILE}:3:12: the string opened with " here is never closed (it runs on to line 5): end it with a matching "`
    ])
    expect(errors("services:\n  web:\n    image: 'x\n")).toEqual([
      `${FILE}:3:12: the string opened with ' here is never closed (it runs on to line 4): end it with a matching '`
    ])
  })
  it("an unclosed bracket: at the bracket", () => {
    expect(errors(web('    ports: ["127.0.0.1:19800:8080"\n    restart: always\n'))).toEqual([
      `${FILE}:4:12: the list opened with "[" here is not closed: end it with "]" (when it goes on over several lines, indent them more than its key)`
    ])
    expect(errors(web("    labels: {a: b\n    restart: always\n"))[0]).toContain(
      `${FILE}:4:13: the mapping opened with "{" here is not closed: end it with "}"`
    )
  })
  it("a repeated key names the key and where it was first given", () => {
    expect(errors("services:\n  web:\n    image: x\n  web:\n    image: y\n")).toEqual([
      `${FILE}:4:3: "web" is given twice in one mapping (first at line 2): keep one`
    ])
  })
  it("tabs and misaligned keys", () => {
    expect(errors("services:\n  web:\n\timage: x\n")).toEqual([
      `${FILE}:3:1: a tab is used for indentation: replace it with spaces (YAML indents with spaces only)`
    ])
    expect(errors("services:\n  web:\n    image: x\n   restart: always\n")).toEqual([
      `${FILE}:4:1: All mapping items must start at the same column: indent this key like the other keys of its mapping`
    ])
  })
})

describe("service keys", () => {
  it("command and entrypoint: a string or a list", () => {
    expect(errors(web("    command:\n      run: httpd\n    entrypoint: true\n"))).toEqual([
      `${FILE}:5:7: services.web.command: expected a string or a list of strings, got a mapping`,
      `${FILE}:6:17: services.web.entrypoint: expected a string or a list of strings, got boolean true`
    ])
  })
  it("a host port published twice in one app, by one service or two", () => {
    const port = (p: string) => `    ports:\n      - "127.0.0.1:${p}"\n`
    expect(errors(`${web(port("19811:8080"))}  api:\n    image: x\n${port("19811:80")}`)).toEqual([
      `${FILE}:9:9: services.api.ports[0]: host port 127.0.0.1:19811/tcp is already published by service web (line 5): publish another host port`
    ])
    expect(errors(web('    ports: ["19812:80", "19813-19814:81-82/udp", "19812-19813:83-84"]\n'))).toEqual([
      `${FILE}:4:50: services.web.ports[2]: host port 19812/tcp is already published by this service (line 4): publish another host port`
    ])
    // Another address, another protocol: no clash.
    expect(errors(web('    ports: ["127.0.0.1:80:80", "127.0.0.2:80:80", "80:81/udp"]\n'))).toEqual([])
  })
  it("a host port on every address clashes with the same port on one address", () => {
    expect(
      errors(web('    ports: ["19815:80", "127.0.0.1:19815:81", "[::1]:19815:82", "0.0.0.0:19816:83"]\n'))
    ).toEqual([
      `${FILE}:4:25: services.web.ports[1]: host port 127.0.0.1:19815/tcp is already published by this service (as 19815/tcp, line 4): publish another host port`,
      `${FILE}:4:47: services.web.ports[2]: host port [::1]:19815/tcp is already published by this service (as 19815/tcp, line 4): publish another host port`
    ])
  })
})

describe("across apps", () => {
  const temps: Array<string> = []
  afterEach(() => {
    for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  })
  const spec = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moor-guards-"))
    temps.push(dir)
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
      fs.writeFileSync(path.join(dir, file), text)
    }
    return dir
  }
  const load = (dir: string): LoadedSpec => {
    const r = loadSpec(dir, { fs: nodeSpecFs, env: {} })
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    return r.success
  }
  const requires = (app: string) => web(`x-moor:\n  requires:\n    - ${app}\n`)

  it("a requires cycle: each app in it gets the problem at its requirement; the others load", () => {
    const dir = spec({
      "a/compose.yaml": requires("b"),
      "b/compose.yaml": requires("c"),
      "c/compose.yaml": requires("a"),
      "d/compose.yaml": requires("a"),
      "e/compose.yaml": web("")
    })
    const loaded = load(dir)
    const cycle = "requires cycle: a -> b -> c -> a; an app cannot wait for an app that waits for it"
    expect(loaded.problems.map(formatProblem)).toEqual(
      ["a", "b", "c"].map(
        (app) => `${dir}/${app}/compose.yaml:6:7: x-moor.requires[0]: ${cycle}: remove one of these requirements`
      )
    )
    expect(loaded.invalid.map((a) => a.name)).toEqual(["a", "b", "c"])
    // d requires an invalid app: the planner leaves it out with that reason; e is untouched.
    expect(loaded.input.apps.map((a) => a.name)).toEqual(["d", "e"])
  })

  it("a host port published by two apps on one host: the later app, at its port entry", () => {
    const port = '    ports:\n      - "127.0.0.1:19810:8080"\n'
    const dir = spec({
      "moor.yaml": "hosts:\n  - name: one\n  - name: two\n",
      "first/compose.yaml": web(port),
      "second/compose.yaml": web(port),
      "elsewhere/compose.yaml": `${web(port)}x-moor:\n  hosts: [two]\n`,
      "third/compose.yaml": web(port)
    })
    const loaded = load(dir)
    const clash = (app: string) =>
      `${dir}/${app}/compose.yaml:5:9: services.web.ports[0]: host port 127.0.0.1:19810/tcp on host one is already published by app first (${dir}/first/compose.yaml:5:9): publish another host port, or place the apps on different hosts`
    expect(loaded.problems.map(formatProblem)).toEqual([clash("second"), clash("third")])
    expect(loaded.input.apps.map((a) => a.name)).toEqual(["elsewhere", "first"])
  })

  it("an app left out for a requires cycle holds no host port: the app after it keeps its own", () => {
    const port = '    ports:\n      - "19817:8080"\n'
    const dir = spec({
      "a/compose.yaml": `${web(port)}x-moor:\n  requires: [b]\n`,
      "b/compose.yaml": `${web("")}x-moor:\n  requires: [a]\n`,
      "c/compose.yaml": web(port)
    })
    const loaded = load(dir)
    expect(loaded.invalid.map((a) => a.name)).toEqual(["a", "b"])
    expect(loaded.problems.map(formatProblem).join("\n")).not.toContain("already published")
    expect(loaded.input.apps.map((a) => a.name)).toEqual(["c"])
  })
})

describe("a scope given on the command line (or as the Action's input)", () => {
  it("is checked as such, not blamed on the spec", async () => {
    const flags = {
      scope: Option.some("Bad Scope!"),
      dockerHost: Option.none(),
      repo: Option.some("memory"),
      json: false,
      quiet: false
    }
    const failure = await Effect.runPromise(
      loadCliSpec("test/fixtures/specs/single", flags).pipe(Effect.flip, Effect.provide(SpecLoader.layerWith({})))
    )
    expect(failure.message).toBe(
      `the scope "Bad Scope!" (given with --scope, or the scope input) is not valid: use lowercase a-z, 0-9, '_', '.', '-', starting with a letter or digit`
    )
  })
})
