/**
 * `SpecSource`: the spec as it is on disk now. Read again for every request that needs it and at
 * the start of every pass, so a push (or anyone updating the checkout) is seen without a restart.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { formatProblem, SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { normalizeImage } from "../../core/names.ts"
import { placementOf } from "../../core/plan/apps.ts"
import { type Loaded, loadSpec } from "../cli/context.ts"
import { Settings } from "./settings.ts"

export class SpecUnavailable extends Schema.TaggedError<SpecUnavailable>()("SpecUnavailable", {
  path: Schema.String,
  message: Schema.String
}) {}

export interface SpecSourceShape {
  readonly load: Effect.Effect<Loaded, SpecUnavailable>
}

export class SpecSource extends Context.Service<SpecSource, SpecSourceShape>()("moor/http/SpecSource") {
  static readonly layer: Layer.Layer<SpecSource, never, Settings | SpecLoader> = Layer.effect(
    SpecSource,
    Effect.gen(function* () {
      const settings = yield* Settings
      const loader = yield* SpecLoader
      const flags = {
        scope: Option.fromUndefinedOr(settings.scope),
        dockerHost: Option.fromUndefinedOr(settings.dockerHost),
        repo: Option.fromUndefinedOr(settings.repo),
        json: false,
        quiet: true
      }
      return SpecSource.of({
        load: loadSpec(settings.spec, flags).pipe(
          Effect.provideService(SpecLoader, loader),
          Effect.catchTags({
            SpecError: (e) =>
              Effect.fail(
                new SpecUnavailable({
                  path: settings.spec,
                  message: e.problems.length > 0 ? e.problems.map(formatProblem).join("\n") : e.message
                })
              ),
            CliFailure: (e) => Effect.fail(new SpecUnavailable({ path: settings.spec, message: e.message }))
          })
        )
      })
    })
  )
}

export interface ImageUse {
  readonly host: string
  readonly app: string
  readonly service: string
}

/** Every (host, app, service) whose service runs `image` (`redis` and `redis:latest` are one image). */
export const usesOfImage = (loaded: Loaded, image: string): ReadonlyArray<ImageUse> => {
  const wanted = normalizeImage(image)
  const placement = placementOf(loaded.desired)
  const uses: Array<ImageUse> = []
  for (const app of loaded.desired.apps) {
    for (const [service, s] of Object.entries(app.services)) {
      if (normalizeImage(s.image) !== wanted) continue
      for (const host of placement.get(app.name) ?? []) uses.push({ host, app: app.name, service })
    }
  }
  return uses.sort((a, b) => `${a.host}/${a.app}/${a.service}`.localeCompare(`${b.host}/${b.app}/${b.service}`))
}

/** Apps the spec declares, valid or not. */
export const appNamesOf = (loaded: Loaded): ReadonlyArray<string> =>
  [...new Set([...loaded.desired.apps.map((a) => a.name), ...loaded.desired.invalid.map((a) => a.name)])].sort()
