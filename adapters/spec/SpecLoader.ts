/**
 * The `SpecLoader` service: a spec directory (or one Compose file) to a `LoadedSpec`. Problems in an
 * app's file make that app invalid (planned as a skip) while the rest loads; `SpecError` only when
 * nothing can be loaded. Every load sees the environment and the files spec-guard.ts allows: no
 * `MOOR_*` variable moor.yaml does not let through, no file outside the spec.
 */
import { Context, Effect, Layer, Result } from "effect"
import { loadSpec } from "./load.ts"
import { SpecError } from "./spec-error.ts"
import { nodeSpecFs, type SpecFs } from "./spec-fs.ts"
import { guardSpec } from "./spec-guard.ts"
import type { LoadedSpec } from "./spec-types.ts"

export interface LoadSpecOptions {
  /**
   * The environment for interpolation and DOCKER_HOST (default: the layer's, normally the
   * process's); its `MOOR_*` variables only as moor.yaml allows.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
}

export interface SpecLoaderShape {
  readonly load: (path: string, options?: LoadSpecOptions) => Effect.Effect<LoadedSpec, SpecError>
}

const make = (fs: SpecFs, defaultEnv: () => Readonly<Record<string, string | undefined>>): SpecLoaderShape => ({
  load: Effect.fn("SpecLoader.load")(function* (path: string, options?: LoadSpecOptions) {
    const result = yield* Effect.try({
      try: () => loadSpec(path, guardSpec(fs, path, options?.env ?? defaultEnv())),
      catch: (e) =>
        new SpecError({
          path,
          message: `${path}: could not be read: ${e instanceof Error ? e.message : String(e)}`,
          problems: []
        })
    })
    if (Result.isFailure(result)) return yield* result.failure
    return result.success
  })
})

export class SpecLoader extends Context.Service<SpecLoader, SpecLoaderShape>()("moor/SpecLoader") {
  /** On node:fs; the environment defaults to the process's at the time of each load. */
  static readonly layer = Layer.succeed(SpecLoader, SpecLoader.of(make(nodeSpecFs, () => ({ ...process.env }))))
  /** On a given file system and default environment (tests). */
  static readonly layerWith = (options: { readonly fs?: SpecFs; readonly env?: Readonly<Record<string, string>> }) =>
    Layer.succeed(SpecLoader, SpecLoader.of(make(options.fs ?? nodeSpecFs, () => options.env ?? {})))
}

export { SpecError } from "./spec-error.ts"
export type { AppFile, DesiredInput, EngineConnection, LoadedSpec } from "./spec-types.ts"
export type { SpecProblem } from "./problems.ts"
export { formatProblem } from "./problems.ts"
export { toDesiredState } from "./desired.ts"
export { parseCompose } from "./compose-app.ts"
