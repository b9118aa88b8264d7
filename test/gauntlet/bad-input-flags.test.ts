/**
 * The gauntlet's bad-input section, command line: wrong subcommands, flags and flag values given to
 * `moor` as a process. Each must exit 1 with one clear line on stderr saying what is wrong, print no
 * stack trace, and change nothing on the engine (a valid spec is given, so only the flag is wrong).
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildCli, type Cli, crashOf, limiter, runMoor } from "../support/bad-input-cli.ts"
import { cleanupScopesStartingWith, snapshotScope } from "../support/bad-input-engine.ts"
import { summary } from "../support/gauntlet.ts"

const scope = `gauntlet-bad-${randomBytes(3).toString("hex")}-flags`
/** A spec whose valid app would be created if the command went ahead. */
const SPEC = "test/fixtures/bad-specs/yaml-unclosed-quote"

interface FlagCase {
  readonly name: string
  readonly args: ReadonlyArray<string>
  /** What stderr must say. */
  readonly says: string
}

const cases: ReadonlyArray<FlagCase> = [
  { name: "an unknown subcommand", args: ["deploy", SPEC], says: 'Unknown subcommand "deploy"' },
  { name: "an unknown flag", args: ["apply", SPEC, "--force"], says: "Unrecognized flag: --force" },
  {
    name: "--pull sometimes",
    args: ["apply", SPEC, "--pull", "sometimes"],
    says: 'Invalid value for flag --pull: "sometimes"'
  },
  { name: "--rounds abc", args: ["apply", SPEC, "--rounds", "abc"], says: 'Invalid value for flag --rounds: "abc"' },
  { name: "two specs", args: ["apply", SPEC, SPEC], says: "Unexpected positional argument" },
  {
    name: "--scope with capitals and a space",
    args: ["apply", SPEC, "--scope", "Bad Scope!"],
    says: 'the scope "Bad Scope!" (given with --scope, or the scope input) is not valid'
  },
  {
    name: "--docker-host http://",
    args: ["apply", SPEC, "--docker-host", "http://docker.example.com:2375"],
    says: 'endpoint "http://docker.example.com:2375" has the unsupported scheme "http://"'
  },
  {
    name: "--repo of an unknown kind",
    args: ["apply", SPEC, "--repo", "mysql://db/moor"],
    says: 'repository URL "mysql://db/moor": unsupported kind of repository; use sqlite:PATH'
  },
  {
    name: "a spec that does not exist",
    args: ["apply", "no/such/spec"],
    says: "no/such/spec: no such file or directory"
  }
]

let clear = 0
let crashes = 0
let changes = 0
let cli: Cli | undefined
beforeAll(async () => {
  cli = await buildCli()
})
afterAll(async () => {
  cli?.remove()
  await cleanupScopesStartingWith(scope)
  summary(`bad_input_flags ${clear}/${cases.length} clear errors, ${crashes} crashes, ${changes} engine changes`)
})

describe("moor refuses bad flags", () => {
  const four = limiter(4)
  it.concurrent.each(cases)("$name", async (c) => {
    const args = c.args.includes("--scope") ? [...c.args, "--repo", "memory"] : [...c.args, "--scope", scope]
    const withRepo = args.includes("--repo") ? args : [...args, "--repo", "memory"]
    if (cli === undefined) throw new Error("the CLI was not built")
    const built = cli
    const before = await snapshotScope(scope)
    const r = await four(() => runMoor(built, withRepo))
    const after = await snapshotScope(scope)
    const crash = crashOf(r)
    if (crash !== undefined) crashes++
    if (JSON.stringify(after) !== JSON.stringify(before)) changes++
    expect(crash, r.stderr).toBeUndefined()
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toContain(c.says)
    expect(r.stdout).not.toMatch(/^Plan:|^ +\+ create /m)
    expect(after).toEqual(before)
    clear++
  })
})
