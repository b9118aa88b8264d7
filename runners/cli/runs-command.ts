/** `moor runs` lists recent runs; `moor runs show ID` shows one run's actions and errors. */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { resolve } from "node:path"
import { defaultRepo, Repo, type RunRecord } from "../../adapters/repo/Repo.ts"
import { formatDuration } from "../../core/plan/format.ts"
import { globalFlags } from "./commands.ts"
import { CliFailure, reportFailures } from "./errors.ts"
import { dim, green, print, red, yellow } from "./output.ts"

const specFlag = Flag.String("spec").pipe(
  Flag.withDescription("the spec (default: MOOR_SPEC or .)"),
  Flag.withDefault(process.env.MOOR_SPEC ?? ".")
)
const colour = (s: string) => (s === "succeeded" ? green(s) : s === "running" || s === "pending" ? yellow(s) : red(s))
const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19)

/** Runs need only the repository: --repo, MOOR_REPO, or the spec's default file (the spec is not loaded). */
const withRepo = <A, E>(
  flags: { readonly spec: string; readonly repo: Option.Option<string> },
  body: Effect.Effect<A, E, Repo>
) =>
  body.pipe(
    Effect.provide(
      Repo.layerFromUrl(
        Option.getOrElse(flags.repo, () => process.env.MOOR_REPO ?? defaultRepo(resolve(flags.spec)).url)
      )
    )
  )

const line = (r: RunRecord) =>
  `${r.id}  ${colour(r.status.padEnd(9))}  ${r.trigger.padEnd(7)}  ${when(r.startedAt)}  ${r.finishedAt === undefined ? "" : formatDuration(r.finishedAt - r.startedAt)}`

const show = Command.make(
  "show",
  {
    id: Argument.String("id").pipe(Argument.withDescription("a run id (or a pass id)")),
    spec: specFlag,
    ...globalFlags
  },
  (flags) =>
    reportFailures(
      withRepo(
        flags,
        Effect.gen(function* () {
          const repo = yield* Repo
          const direct = yield* repo.getRun(flags.id)
          const details =
            direct !== undefined
              ? [direct]
              : yield* Effect.forEach(
                  (yield* repo.listRuns({ limit: 10_000 })).filter((r) => r.id.startsWith(`${flags.id}-`)),
                  (r) => repo.getRun(r.id)
                )
          const found = details.filter((d) => d !== undefined)
          if (found.length === 0)
            return yield* new CliFailure({ message: `no run ${flags.id} in the repo (see moor runs)`, exitCode: 1 })
          if (flags.json) return print(JSON.stringify(found, null, 2))
          for (const d of found) {
            print(`${line(d.run)}  host ${d.run.host}`)
            if (d.run.planSummary !== undefined) print(dim(`  plan: ${d.run.planSummary}`))
            if (d.run.error !== undefined) print(red(`  ${d.run.error.split("\n").join("\n  ")}`))
            for (const a of d.actions) {
              const mark = a.outcome === "done" ? green("ok  ") : a.outcome === "failed" ? red("FAIL") : yellow("skip")
              print(
                `  ${mark} ${a.kind} ${a.app}${a.service === undefined ? "" : `/${a.service}`} ${dim(`(${a.reason}) ${formatDuration(a.durationMs)}`)}`
              )
              if (a.error !== undefined) print(`       ${a.outcome === "failed" ? red(a.error) : dim(a.error)}`)
            }
          }
        })
      )
    )
).pipe(Command.withDescription("one run: its plan summary, actions and errors"))

export const runsCommand = Command.make(
  "runs",
  {
    spec: specFlag,
    ...globalFlags,
    limit: Flag.Int("limit").pipe(Flag.withDescription("how many"), Flag.withDefault(20)),
    host: Flag.String("host").pipe(Flag.optional)
  },
  (flags) =>
    reportFailures(
      withRepo(
        flags,
        Effect.gen(function* () {
          const repo = yield* Repo
          const loadedScope = Option.getOrUndefined(flags.scope)
          const runs = yield* repo.listRuns({
            limit: flags.limit,
            ...(loadedScope === undefined ? {} : { scope: loadedScope }),
            ...(Option.isSome(flags.host) ? { host: flags.host.value } : {})
          })
          if (flags.json) return print(JSON.stringify(runs, null, 2))
          if (runs.length === 0) return print("no runs yet")
          for (const r of runs)
            print(`${line(r)}  ${r.host}${r.error === undefined ? "" : dim(`  ${r.error.split("\n")[0]}`)}`)
        })
      )
    )
).pipe(Command.withDescription("recent runs, newest first"), Command.withSubcommands([show]))
