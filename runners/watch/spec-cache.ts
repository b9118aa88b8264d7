/**
 * The spec, reloaded for each pass of the watch loop (it may have changed in git), but only when
 * its files changed: the loader reads through a recording file system, and what it saw (every
 * stat, directory listing, real path and a digest of every file's content) is kept with the
 * result. Next time, when every one of those reads gives the same answer, the loader would produce
 * the same spec, so the previous `Loaded` (and its `DesiredState` object, which the planner's
 * memo is keyed on) is reused without parsing anything. A spec that fails to load is cached the
 * same way, so a broken spec is reported on each pass without being parsed again.
 */
import { createHash } from "node:crypto"
import { Data, Effect, Result } from "effect"
import { formatProblem, SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { type FileStat, nodeSpecFs, type SpecFs } from "../../adapters/spec/spec-fs.ts"
import { type GlobalFlags, type Loaded, loadSpec } from "../cli/context.ts"

/** The spec could not be used at all: what is wrong, where, what to do. */
export class SpecLoadFailure extends Data.TaggedError("SpecLoadFailure")<{ readonly message: string }> {}

export interface SpecSnapshot {
  readonly loaded: Loaded
  /** False when the files are as the last time, and `loaded` is the very same object. */
  readonly changed: boolean
}

type Op = "stat" | "readDir" | "readFile" | "realPath"

const digest = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

const statText = (r: Result.Result<FileStat | undefined, string>): string =>
  Result.isFailure(r)
    ? `error:${r.failure}`
    : r.success === undefined
      ? "missing"
      : `${r.success.kind}:${r.success.size}`
/**
 * A listing, without the hidden entries: the loader skips them, and some change all the time
 * (`.git`, `.moor` with the default state database).
 */
const listText = (r: Result.Result<ReadonlyArray<string>, string>): string =>
  Result.isFailure(r) ? `error:${r.failure}` : JSON.stringify(r.success.filter((e) => !e.startsWith(".")))
const fileText = (r: Result.Result<Uint8Array, string>): string =>
  Result.isFailure(r) ? `error:${r.failure}` : digest(r.success)
const realText = (r: string | undefined): string => r ?? "missing"

/** What one read answers now, reduced to a string that differs whenever the answer does. */
const answer = (fs: SpecFs, op: Op, path: string): string => {
  switch (op) {
    case "stat":
      return statText(fs.stat(path))
    case "readDir":
      return listText(fs.readDir(path))
    case "readFile":
      return fileText(fs.readFile(path))
    case "realPath":
      return realText(fs.realPath(path))
  }
}

/** A file system over `base` that remembers what each distinct read answered the first time. */
export const recordingFs = (base: SpecFs): { readonly fs: SpecFs; readonly reads: Map<string, string> } => {
  const reads = new Map<string, string>()
  const note = <A>(op: Op, path: string, value: A, text: (a: A) => string): A => {
    const key = `${op}\u0000${path}`
    if (!reads.has(key)) reads.set(key, text(value))
    return value
  }
  const fs: SpecFs = {
    stat: (path) => note("stat", path, base.stat(path), statText),
    readDir: (path) => note("readDir", path, base.readDir(path), listText),
    readFile: (path) => note("readFile", path, base.readFile(path), fileText),
    realPath: (path) => note("realPath", path, base.realPath(path), realText)
  }
  return { fs, reads }
}

/** True when every read gives the answer it gave when recorded. */
export const unchanged = (base: SpecFs, reads: ReadonlyMap<string, string>): boolean => {
  for (const [key, before] of reads) {
    const [op, path] = key.split("\u0000") as [Op, string]
    if (answer(base, op, path) !== before) return false
  }
  return true
}

const describeFailure = (e: { readonly _tag: string; readonly message: string }): string => {
  if (e._tag === "SpecError") {
    const problems = (e as { readonly problems?: ReadonlyArray<Parameters<typeof formatProblem>[0]> }).problems
    if (problems !== undefined && problems.length > 0) return problems.map(formatProblem).join("\n")
  }
  return e.message
}

const processEnv = (): Record<string, string> =>
  Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined))

export interface SpecCache {
  /** The spec as it is now: loaded again only when its files changed. */
  readonly current: Effect.Effect<SpecSnapshot, SpecLoadFailure>
}

export const makeSpecCache = (
  path: string,
  flags: GlobalFlags,
  options: { readonly fs?: SpecFs | undefined } = {}
): SpecCache => {
  const base = options.fs ?? nodeSpecFs
  let last: { readonly reads: ReadonlyMap<string, string>; readonly result: Result.Result<Loaded, string> } | undefined
  const current = Effect.gen(function* () {
    if (last !== undefined && unchanged(base, last.reads)) {
      return Result.isSuccess(last.result)
        ? { loaded: last.result.success, changed: false }
        : yield* new SpecLoadFailure({ message: last.result.failure })
    }
    const recorder = recordingFs(base)
    const result = yield* loadSpec(path, flags).pipe(
      Effect.provide(SpecLoader.layerWith({ fs: recorder.fs, env: processEnv() })),
      Effect.mapError(describeFailure),
      Effect.result
    )
    last = { reads: recorder.reads, result }
    return Result.isSuccess(result)
      ? { loaded: result.success, changed: true }
      : yield* new SpecLoadFailure({ message: result.failure })
  })
  return { current }
}
