/**
 * The `SpecLoader` service: a spec directory (or one Compose file) to a `LoadedSpec`. Problems in an
 * app's file make that app invalid (planned as a skip) while the rest loads; `SpecError` only when
 * nothing can be loaded. Every load sees the environment and the files spec-guard.ts allows: no
 * `MOOR_*` variable moor.yaml does not let through, no file outside the spec. A spec whose files are
 * being written is not taken half written: see `settled` below.
 */
import { Context, Effect, Layer, Result } from "effect"
import { loadSpec } from "./load.ts"
import { SpecError } from "./spec-error.ts"
import { type FileStat, nodeSpecFs, type SpecFs } from "./spec-fs.ts"
import { guardSpec } from "./spec-guard.ts"
import type { LoadedSpec } from "./spec-types.ts"

export interface LoadSpecOptions {
  /**
   * The environment for interpolation and DOCKER_HOST (default: the layer's, normally the
   * process's); its `MOOR_*` variables only as moor.yaml allows.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Compose profiles to enable (`--profile`), beside COMPOSE_PROFILES and moor.yaml's `profiles:`. */
  readonly profiles?: ReadonlyArray<string> | undefined
}

export interface SpecLoaderShape {
  readonly load: (path: string, options?: LoadSpecOptions) => Effect.Effect<LoadedSpec, SpecError>
}

/**
 * How long the files and directories a load read must have stood still before it is trusted. A file
 * written in several steps (`git checkout` removing then creating it, an editor or a copy writing it
 * in pieces) is only caught half way through within that time.
 */
export const SETTLE_MS = 500
/** Loads made while the spec keeps changing; the last one refuses what changed under each of them. */
export const SETTLE_LOADS = 3

/** A file system that remembers what each path it found looked like the first time, and the latest change seen. */
const stamping = (fs: SpecFs) => {
  const seen = new Map<string, FileStat>()
  let youngest = 0
  const stat: SpecFs["stat"] = (path) => {
    const r = fs.stat(path)
    if (Result.isSuccess(r) && r.success !== undefined) {
      if (!seen.has(path)) seen.set(path, r.success)
      youngest = Math.max(youngest, r.success.modifiedMs)
    }
    return r
  }
  return {
    fs: { ...fs, stat },
    /** The latest modification among the paths seen (epoch ms). */
    youngest: (): number => youngest,
    /** The paths that are not what they were when first seen. */
    changed: (): Set<string> =>
      new Set(
        [...seen]
          .filter(([path, before]) => {
            const now = fs.stat(path)
            return Result.isFailure(now) || now.success?.stamp !== before.stamp
          })
          .map(([path]) => path)
      )
  }
}

const keptChanging = (loads: number): string =>
  `it changed while moor read it, ${loads} times in a row: moor leaves it alone until it stays the same; if something rewrites it, let it finish`

/** `fs`, but the paths that kept changing cannot be read: what they hold is unknown, never absent. */
const refusing = (fs: SpecFs, paths: ReadonlySet<string>): SpecFs => ({
  ...fs,
  stat: (path) => (paths.has(path) ? Result.fail(keptChanging(SETTLE_LOADS)) : fs.stat(path)),
  readFile: (path) => (paths.has(path) ? Result.fail(keptChanging(SETTLE_LOADS)) : fs.readFile(path))
})

/** File times are the file system's real time, so the wait is real time too, whatever clock a test provides. */
const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

const make = (
  fs: SpecFs,
  defaultEnv: () => Readonly<Record<string, string | undefined>>,
  settleMs: number
): SpecLoaderShape => ({
  load: Effect.fn("SpecLoader.load")(function* (path: string, options?: LoadSpecOptions) {
    const env = options?.env ?? defaultEnv()
    const loadOnce = (on: SpecFs) =>
      Effect.try({
        try: () =>
          loadSpec(path, {
            ...guardSpec(on, path, env),
            ...(options?.profiles === undefined ? {} : { profiles: options.profiles })
          }),
        catch: (e) =>
          new SpecError({
            path,
            message: `${path}: could not be read: ${e instanceof Error ? e.message : String(e)}`,
            problems: []
          })
      })
    // Settled: what a load read had not changed for `settleMs`, or is the same after waiting that long.
    let changing: ReadonlySet<string> = new Set()
    for (let load = 1; ; load++) {
      const watched = stamping(load < SETTLE_LOADS ? fs : refusing(fs, changing))
      const result = yield* loadOnce(watched.fs)
      const wait = Math.min(settleMs, settleMs - (Date.now() - watched.youngest()))
      if (wait <= 0 || load === SETTLE_LOADS) {
        if (Result.isFailure(result)) return yield* result.failure
        return result.success
      }
      yield* realSleep(wait)
      changing = watched.changed()
      if (changing.size === 0) {
        if (Result.isFailure(result)) return yield* result.failure
        return result.success
      }
    }
  })
})

export class SpecLoader extends Context.Service<SpecLoader, SpecLoaderShape>()("moor/SpecLoader") {
  /** On node:fs; the environment defaults to the process's at the time of each load. */
  static readonly layer = Layer.succeed(
    SpecLoader,
    SpecLoader.of(make(nodeSpecFs, () => ({ ...process.env }), SETTLE_MS))
  )
  /** On a given file system and default environment (tests). */
  static readonly layerWith = (options: {
    readonly fs?: SpecFs
    readonly env?: Readonly<Record<string, string>>
    readonly settleMs?: number
  }) =>
    Layer.succeed(
      SpecLoader,
      SpecLoader.of(make(options.fs ?? nodeSpecFs, () => options.env ?? {}, options.settleMs ?? SETTLE_MS))
    )
}

export { SpecError } from "./spec-error.ts"
export type { AppFile, DesiredInput, EngineConnection, LoadedSpec } from "./spec-types.ts"
export type { SpecProblem } from "./problems.ts"
export { formatProblem } from "./problems.ts"
export { toDesiredState } from "./desired.ts"
export { withScope } from "./load.ts"
export { parseCompose } from "./compose-app.ts"
