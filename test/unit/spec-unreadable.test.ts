/**
 * Anything moor cannot read is unknown, never absent: an app directory or Compose file that cannot
 * be read (permission denied, a broken symlink, a symlink loop, an I/O error, a file rewritten while
 * it is read, a file that is not YAML) is a problem for that app, with its path, and the plan keeps
 * its containers, even when the file names the app otherwise than its directory. On an in-memory
 * file system with each fault, then on the real one for what node:fs reports.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { loadSpec } from "../../adapters/spec/load.ts"
import { MemorySpecFs } from "../../adapters/spec/spec-fs-memory.ts"
import { nodeSpecFs } from "../../adapters/spec/spec-fs.ts"
import { formatProblem, type LoadedSpec, toDesiredState } from "../../adapters/spec/SpecLoader.ts"
import { destructiveKinds } from "../../core/model/plan.ts"
import { plan } from "../../core/plan/plan.ts"
import { app, deployed, desired, policy, svc } from "../support/core-fixtures.ts"

const ROOT = "/spec"
const KEEP = "services:\n  web:\n    image: moor-fixture/app:1\n"
/** The app in directory `other` is named `renamed` by its file: its containers are `renamed-*`. */
const OTHER = "name: renamed\nservices:\n  web:\n    image: moor-fixture/app:1\n"

const baseFs = (): MemorySpecFs =>
  new MemorySpecFs()
    .file(`${ROOT}/moor.yaml`, "scope: s\n")
    .file(`${ROOT}/keep/compose.yaml`, KEEP)
    .file(`${ROOT}/other/compose.yaml`, OTHER)

const load = (specFs: MemorySpecFs): LoadedSpec => {
  const r = loadSpec(ROOT, { fs: specFs, env: {} })
  if (Result.isFailure(r)) throw new Error(`expected the spec to load, got: ${r.failure.message}`)
  return r.success
}

/** Both apps deployed, as the engine shows them. */
const observed = deployed(desired([app("keep", { web: svc() }), app("renamed", { web: svc() })], { scope: "s" }), {
  images: ["moor-fixture/app:1"]
})

const planOf = (loaded: LoadedSpec) => {
  const d = toDesiredState(loaded)
  if (Result.isFailure(d)) throw new Error(d.failure.message)
  return plan(d.success, observed, policy())
}

interface Fault {
  readonly name: string
  readonly apply: (f: MemorySpecFs) => void
  /** The file or directory the problem names. */
  readonly where: string
  readonly why: RegExp
}

const faults: ReadonlyArray<Fault> = [
  {
    name: "a directory moor may not read (mode 000)",
    apply: (f) => f.deny(`${ROOT}/other`),
    where: `${ROOT}/other/compose.yaml`,
    why: /^permission denied/
  },
  {
    name: "a Compose file moor may not read",
    apply: (f) => f.deny(`${ROOT}/other/compose.yaml`),
    where: `${ROOT}/other/compose.yaml`,
    why: /^permission denied/
  },
  {
    name: "a Compose file that is a broken symlink",
    apply: (f) => f.remove(`${ROOT}/other/compose.yaml`).symlink(`${ROOT}/other/compose.yaml`, "/gone/compose.yaml"),
    where: `${ROOT}/other/compose.yaml`,
    why: /^a broken symbolic link \(to \/gone\/compose\.yaml\)/
  },
  {
    name: "an app directory that is a broken symlink",
    apply: (f) => f.remove(`${ROOT}/other`).symlink(`${ROOT}/other`, "/gone"),
    where: `${ROOT}/other`,
    why: /^a broken symbolic link \(to \/gone\)/
  },
  {
    name: "a symlink loop",
    apply: (f) => f.remove(`${ROOT}/other/compose.yaml`).symlink(`${ROOT}/other/compose.yaml`, "compose.yaml"),
    where: `${ROOT}/other/compose.yaml`,
    why: /^a loop of symbolic links/
  },
  {
    name: "an I/O error",
    apply: (f) => f.ioError(`${ROOT}/other/compose.yaml`),
    where: `${ROOT}/other/compose.yaml`,
    why: /^an I\/O error/
  },
  {
    name: "a file rewritten while it is read",
    apply: (f) => {
      let n = 0
      f.onRead = (p) => {
        if (p === `${ROOT}/other/compose.yaml`) f.file(p, n++ % 2 === 0 ? "name: renamed\n" : OTHER)
      }
    },
    where: `${ROOT}/other/compose.yaml`,
    why: /^the file changed while it was read \(3 times in a row\)/
  },
  {
    name: "an app's .env moor may not read",
    apply: (f) => f.file(`${ROOT}/other/.env`, "TAG=1\n").deny(`${ROOT}/other/.env`),
    where: `${ROOT}/other/.env`,
    why: /^permission denied/
  },
  {
    name: "a Compose file that is not YAML",
    apply: (f) => f.file(`${ROOT}/other/compose.yaml`, "name: renamed\nservices: [web\n"),
    where: `${ROOT}/other/compose.yaml:2:11`,
    why: /^the list opened with "\[" here is not closed/
  }
]

describe("a part of the spec that cannot be read is unknown, never absent", () => {
  it.each(faults)("$name: a problem with its path; the other app loads; the containers stay", (fault) => {
    const f = baseFs()
    fault.apply(f)
    const loaded = load(f)
    expect(loaded.input.apps.map((a) => a.name)).toEqual(["keep"])
    // Named after its directory: the file, which would name it, could not be read.
    const bad = loaded.invalid.find((a) => a.name === "other")
    expect(bad?.message).toMatch(new RegExp(`^${fault.where.replaceAll("/", "\\/")}(:\\d+)?: `))
    const unreadable = loaded.unreadable.map(formatProblem)
    expect(unreadable).toHaveLength(1)
    expect(unreadable[0]?.startsWith(fault.where)).toBe(true)
    expect(unreadable[0]?.replace(/^[^ ]*: /, "")).toMatch(fault.why)

    const p = planOf(loaded)
    expect(p.actions.filter((a) => destructiveKinds.has(a._tag))).toEqual([])
    const kept = p.actions.find((a) => a._tag === "skip" && a.app === "renamed")
    expect(kept?.reason).toContain("app renamed is not in the spec as read, but part of the spec could not be read")
    expect(kept?.reason).toContain(fault.where)
    expect(p.apps.find((a) => a.app === "renamed")?.skipped).toBe(kept?.reason)
    expect(p.warnings.some((w) => w.startsWith("part of the spec could not be read"))).toBe(true)
  })

  it("an app removed for real (its directory gone) is still removed: nothing else was unreadable", () => {
    const loaded = load(baseFs().remove(`${ROOT}/other`))
    expect(loaded.unreadable).toEqual([])
    const p = planOf(loaded)
    expect(p.actions.filter((a) => a._tag === "remove").map((a) => a.reason)).toEqual([
      "orphan: app renamed is not in the spec"
    ])
  })

  it("an env_file that cannot be read leaves the app invalid under its own name, and the rest is pruned as usual", () => {
    const f = baseFs()
      .file(`${ROOT}/other/compose.yaml`, `${OTHER}    env_file: app.env\n`)
      .file(`${ROOT}/other/app.env`, "A=1\n")
      .deny(`${ROOT}/other/app.env`)
    const loaded = load(f)
    expect(loaded.unreadable).toEqual([])
    expect(loaded.invalid.map((a) => a.name)).toEqual(["renamed"])
    expect(loaded.invalid[0]?.message).toContain("env file app.env: permission denied")
    const p = planOf(loaded)
    expect(p.actions.filter((a) => destructiveKinds.has(a._tag))).toEqual([])
  })

  it("a moor.yaml that is a broken symlink is an error, not a spec without moor.yaml (another scope)", () => {
    const f = baseFs().remove(`${ROOT}/moor.yaml`).symlink(`${ROOT}/moor.yaml`, "/gone/moor.yaml")
    const r = loadSpec(ROOT, { fs: f, env: {} })
    expect(Result.isFailure(r) && r.failure.message).toMatch(/^\/spec\/moor\.yaml: a broken symbolic link/)
  })

  it("a root whose compose.yaml cannot be read is an error: one app or a directory of apps cannot be told", () => {
    const f = baseFs().symlink(`${ROOT}/compose.yaml`, "/gone/compose.yaml")
    const r = loadSpec(ROOT, { fs: f, env: {} })
    expect(Result.isFailure(r) && r.failure.message).toMatch(/^\/spec\/compose\.yaml: a broken symbolic link/)
  })
})

describe("node:fs errors, as the loader sees them", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moor-spec-fs-"))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, "file"), "x")
  fs.symlinkSync(path.join(dir, "nowhere"), path.join(dir, "dangling"))
  fs.symlinkSync(path.join(dir, "loop"), path.join(dir, "loop"))

  it("nothing there is missing; a broken symlink and a loop are failures that say what they are", () => {
    expect(nodeSpecFs.stat(path.join(dir, "absent"))).toEqual(Result.succeed(undefined))
    expect(nodeSpecFs.stat(path.join(dir, "file", "below"))).toEqual(Result.succeed(undefined))
    const dangling = nodeSpecFs.stat(path.join(dir, "dangling"))
    expect(Result.isFailure(dangling) && dangling.failure).toMatch(
      new RegExp(`^a broken symbolic link \\(to ${path.join(dir, "nowhere")}\\)`)
    )
    const read = nodeSpecFs.readFile(path.join(dir, "dangling"))
    expect(Result.isFailure(read) && read.failure).toMatch(/^a broken symbolic link/)
    const loop = nodeSpecFs.stat(path.join(dir, "loop"))
    expect(Result.isFailure(loop) && loop.failure).toBe("a loop of symbolic links: it resolves to itself")
  })

  it("the same stamp while a file is unchanged, another once it is written", () => {
    const file = path.join(dir, "file")
    const stampOf = () => {
      const s = nodeSpecFs.stat(file)
      return Result.isSuccess(s) ? s.success?.stamp : undefined
    }
    const before = stampOf()
    expect(stampOf()).toBe(before)
    fs.writeFileSync(file, "y")
    expect(stampOf()).not.toBe(before)
  })
})
