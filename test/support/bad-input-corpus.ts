/**
 * The bad-input corpus: `test/fixtures/bad-specs/<case>/` is a spec root holding app folders and
 * compose files, plus `expect.json` saying what the error must contain and whether the whole spec
 * is refused or only the bad apps are skipped. A few cases are generated at test time (a 2 MiB
 * file, 500,000 nested brackets): they are copied to a temporary directory first.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Schema } from "effect"

export const CORPUS = "test/fixtures/bad-specs"

const Generate = Schema.Struct({
  /** `huge`: a 2 MiB Compose file; `deep-flow`: 500,000 nested `[` in 1 MiB. */
  kind: Schema.Literals(["huge", "deep-flow"]),
  /** Where to write it, relative to the case directory. */
  file: Schema.String
})

export const Expect = Schema.Struct({
  /** What is wrong, for people reading the corpus. */
  what: Schema.String,
  /** `refused`: nothing loads, exit 1, nothing planned. `skipped`: only the bad apps are left out. */
  outcome: Schema.Literals(["refused", "skipped"]),
  /** The file the error names, relative to the case directory ("" for the spec root itself). */
  file: Schema.String,
  line: Schema.optionalKey(Schema.Number),
  column: Schema.optionalKey(Schema.Number),
  /** The key path the error names (`services.web.ports[0]`). */
  key: Schema.optionalKey(Schema.String),
  /** Fragments saying what is wrong. */
  says: Schema.Array(Schema.String),
  /** A fragment saying what to do. */
  hint: Schema.String,
  /** `skipped` cases: the apps left out, and the valid apps still planned. */
  skipped: Schema.optionalKey(Schema.Array(Schema.String)),
  planned: Schema.optionalKey(Schema.Array(Schema.String)),
  generate: Schema.optionalKey(Generate),
  /** The spec path to give, relative to the case directory (default: the case directory). */
  spec: Schema.optionalKey(Schema.String)
})
export type Expect = typeof Expect.Type

export interface BadCase {
  readonly slug: string
  /** The case directory, relative to the repository root. */
  readonly dir: string
  readonly expect: Expect
}

/** Every case of the corpus, sorted by name; a malformed expect.json fails loudly. */
export const loadCorpus = (root = CORPUS): ReadonlyArray<BadCase> =>
  readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((slug) => {
      const dir = join(root, slug)
      const file = join(dir, "expect.json")
      if (!existsSync(file)) throw new Error(`${file} is missing: every case says what its error must contain`)
      const expect = Schema.decodeUnknownSync(Expect)(JSON.parse(readFileSync(file, "utf8")))
      return { slug, dir, expect }
    })

const SERVICE = "services:\n  web:\n    image: moor-fixture/app:1\n"

/** 2 MiB: a valid Compose file padded with comments, so only the size is wrong. */
const huge = (): string => {
  const line = `# ${"padding ".repeat(12)}\n`
  return SERVICE + line.repeat(Math.ceil((2 * 1024 * 1024 - SERVICE.length) / line.length))
}

/** 500,000 nested brackets: about 1 MiB, under the size limit. */
const deepFlow = (): string => `x-deep: ${"[".repeat(500_000)}${"]".repeat(500_000)}\n${SERVICE}`

export interface Materialized {
  /** The spec path to give moor. */
  readonly spec: string
  /** The case root the expected file is relative to. */
  readonly root: string
  readonly remove: () => void
}

/** The case ready to run: in place, or copied to a temporary directory with its generated file. */
export const materialize = (c: BadCase): Materialized => {
  const generate = c.expect.generate
  if (generate === undefined) {
    return { spec: join(c.dir, c.expect.spec ?? ""), root: c.dir, remove: () => {} }
  }
  const root = join(mkdtempSync(join(tmpdir(), "moor-bad-")), c.slug)
  cpSync(c.dir, root, { recursive: true, verbatimSymlinks: true })
  const target = join(root, generate.file)
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, generate.kind === "huge" ? huge() : deepFlow())
  return {
    spec: join(root, c.expect.spec ?? ""),
    root,
    remove: () => rmSync(dirname(root), { recursive: true, force: true })
  }
}

/** `file:line:column` as the loader shows it for a spec given as `root`. */
export const whereOf = (e: Expect, root: string): string => {
  const file = e.file === "" ? root : join(root, e.file)
  return e.line === undefined ? file : e.column === undefined ? `${file}:${e.line}` : `${file}:${e.line}:${e.column}`
}

/**
 * What one line of an error lacks: the file and place, the key, what is wrong, what to do. Empty
 * when the line says it all.
 */
export const missingFrom = (line: string, e: Expect, root: string): Array<string> => {
  const missing: Array<string> = []
  const where = whereOf(e, root)
  // The place is followed by ":" (or ends the line): line 3 must not match line 31.
  if (!line.includes(`${where}:`) && !line.endsWith(where)) missing.push(`the place ${where}`)
  if (e.key !== undefined && !line.includes(`: ${e.key}: `)) missing.push(`the key ${e.key}`)
  for (const s of e.says) if (!line.includes(s)) missing.push(`what is wrong ("${s}")`)
  if (!line.includes(e.hint)) missing.push(`what to do ("${e.hint}")`)
  return missing
}

/** The line of `text` that says it all, or what the closest line lacks. */
export const findClearLine = (
  text: string,
  e: Expect,
  root: string
): { readonly line: string } | { readonly missing: ReadonlyArray<string> } => {
  let best: Array<string> | undefined
  for (const line of text.split("\n")) {
    const missing = missingFrom(line, e, root)
    if (missing.length === 0) return { line }
    if (best === undefined || missing.length < best.length) best = missing
  }
  return { missing: best ?? ["any line"] }
}

/** What a case's error lacks, as complaints (none when one line says it all). */
export const clearLine = (text: string, e: Expect, root: string): Array<string> => {
  const found = findClearLine(text, e, root)
  return "missing" in found ? [`no line names ${found.missing.join(", ")}`] : []
}

/** A complaint when two sets of names differ. */
export const sameSet = (what: string, got: Iterable<string>, want: ReadonlyArray<string>): Array<string> => {
  const g = [...new Set(got)].sort()
  const w = [...new Set(want)].sort()
  return g.join(",") === w.join(",") ? [] : [`${what}: got [${g.join(", ")}], expected [${w.join(", ")}]`]
}
