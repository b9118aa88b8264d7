/** `moor apply [SPEC]`: converge the hosts, printing each action as it completes; non-zero when an app failed. */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { describe } from "../../core/describe.ts"
import { formatDuration } from "../../core/plan/format.ts"
import { planForOutput, secretsOfDesired } from "../../core/redact.ts"
import type { PassResult } from "../pass/pass.ts"
import { reconcilePass } from "../pass/pass.ts"
import { newHolderId, newPassId } from "../pass/ids.ts"
import { globalFlags, policyFlags, showValuesFlag, specArg } from "./commands.ts"
import { loadSpec, policyFrom, servicesFor, showValuesAllowed } from "./context.ts"
import { reportFailures } from "./errors.ts"
import { bold, dim, green, print, printErr, red, reportSpec, reportUnknownHosts, resultLine, yellow } from "./output.ts"

export const appsTable = (pass: PassResult): string => {
  const apps = pass.finalPlan.apps
  if (apps.length === 0) return ""
  const w = Math.max(...apps.map((a) => `${a.host}/${a.app}`.length))
  return apps
    .map((a) => {
      const state =
        a.state === "running"
          ? green(a.state)
          : a.state === "failed" || a.state === "unknown"
            ? red(a.state)
            : yellow(a.state)
      return `  ${`${a.host}/${a.app}`.padEnd(w)}  ${state}${a.skipped === undefined ? "" : dim(`  (${a.skipped.split("\n")[0]})`)}`
    })
    .join("\n")
}

export const passFailed = (pass: PassResult): boolean => pass.runs.some((r) => r.status !== "succeeded")

export const applyCommand = Command.make(
  "apply",
  {
    spec: specArg,
    ...globalFlags,
    ...policyFlags,
    showValues: showValuesFlag,
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("print what would be done, change nothing"),
      Flag.withDefault(false)
    ),
    once: Flag.Boolean("once").pipe(
      Flag.withDescription("one pass, then exit (the form for cron jobs; apply always runs once)"),
      Flag.withDefault(true)
    ),
    rounds: Flag.Int("rounds").pipe(
      Flag.withDescription("at most this many observe-plan-apply rounds"),
      Flag.withDefault(5)
    )
  },
  (flags) =>
    reportFailures(
      Effect.gen(function* () {
        const showValues = yield* showValuesAllowed(flags.showValues)
        const loaded = yield* loadSpec(flags.spec, flags)
        reportSpec(loaded.spec)
        const t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const pass = yield* reconcilePass({
          id: yield* newPassId,
          trigger: "cli",
          desired: loaded.desired,
          policy: policyFrom(flags),
          hosts: loaded.hosts,
          dryRun: flags.dryRun,
          maxRounds: flags.rounds,
          settleMs: 60_000,
          holder: yield* newHolderId,
          lease: { ttlMs: 120_000, waitMs: 30_000 },
          onPlan: (plan, round) =>
            Effect.sync(() => {
              if (flags.quiet || flags.json) return
              print(
                round === 1 ? describe(plan, { showValues }) : dim(`round ${round}: ${plan.actions.length} actions`)
              )
            }),
          execute: {
            secrets: secretsOfDesired(loaded.desired),
            onResult: (r) =>
              Effect.sync(() => {
                if (!flags.quiet && !flags.json) print(resultLine(r))
              })
          }
        }).pipe(Effect.provide(servicesFor(loaded)))
        const took = (yield* Effect.clockWith((c) => c.currentTimeMillis)) - t0
        if (flags.json) {
          print(
            JSON.stringify(
              {
                id: pass.id,
                runs: pass.runs,
                rounds: pass.rounds,
                plan: planForOutput(pass.firstPlan, { showValues }),
                results: pass.results.map((r) => ({
                  id: r.action.id,
                  outcome: r.outcome,
                  error: r.error,
                  durationMs: r.durationMs
                })),
                apps: pass.finalPlan.apps
              },
              null,
              2
            )
          )
        } else if (flags.dryRun) {
          print(describe(pass.finalPlan, { showValues }))
          print(dim("dry run: nothing was changed"))
        } else {
          const done = pass.results.filter((r) => r.outcome === "done").length
          const failed = pass.results.filter((r) => r.outcome === "failed").length
          const skipped = pass.results.filter((r) => r.outcome === "skipped").length
          if (pass.results.length === 0 && !flags.quiet) print(describe(pass.finalPlan))
          print(`\n${bold("apps:")}\n${appsTable(pass)}`)
          for (const w of pass.finalPlan.warnings) printErr(`${yellow("warning:")} ${w}`)
          // A host left unknown or busy fails its run without any failed action: not "complete".
          const headline =
            failed > 0
              ? red("Apply finished with failures")
              : passFailed(pass)
                ? red("Apply incomplete")
                : green("Apply complete")
          const runs = pass.runs.map((r) => (r.status === "succeeded" ? r.id : `${r.id} ${r.status}`)).join(", ")
          print(
            `\n${headline}: ${done} done, ${failed} failed, ${skipped} skipped in ${formatDuration(took)} (${pass.rounds} round${pass.rounds === 1 ? "" : "s"}; run ${runs})`
          )
        }
        reportUnknownHosts(pass.finalPlan.hosts)
        if (loaded.spec.problems.length > 0 || passFailed(pass)) process.exitCode = 1
      })
    )
).pipe(Command.withDescription("bring the hosts to the spec: create, start, replace and remove what the plan says"))
