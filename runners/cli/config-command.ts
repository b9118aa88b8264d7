/**
 * `moor config [SPEC]`: what moor understood of each app, as Compose (like `docker compose config`):
 * override files, extends and include merged, profiles applied, values interpolated; environment
 * values as digests unless --show-values on a terminal. Problems go to stderr, exit 1 when there are any.
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { stringify } from "yaml"
import { globalFlags, showValuesFlag, specArg } from "./commands.ts"
import { loadSpec, showValuesAllowed } from "./context.ts"
import { reportFailures } from "./errors.ts"
import { print, reportSpec } from "./output.ts"

export const configCommand = Command.make(
  "config",
  { spec: specArg, ...globalFlags, showValues: showValuesFlag },
  (flags) =>
    reportFailures(
      Effect.gen(function* () {
        const showValues = yield* showValuesAllowed(flags.showValues)
        const loaded = yield* loadSpec(flags.spec, flags)
        reportSpec(loaded.spec)
        const apps = loaded.spec.files.flatMap((f) =>
          f.effective === undefined ? [] : [{ file: f.file, compose: f.effective({ showValues }) }]
        )
        if (flags.json)
          print(
            JSON.stringify(
              apps.map((a) => a.compose),
              null,
              2
            )
          )
        else print(apps.map((a) => `# ${a.file}\n${stringify(a.compose, { lineWidth: 0 })}`).join("---\n"))
        if (loaded.spec.problems.length > 0) process.exitCode = 1
      })
    )
).pipe(
  Command.withDescription(
    "show what moor understood of each app: its Compose files merged, profiles applied, values interpolated"
  )
)
