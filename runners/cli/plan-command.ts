/** `moor plan [SPEC]`: the plan for people (or --json); --detailed-exitcode: 0 nothing to do, 2 changes, 1 error. */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { describe, outOfSync } from "../../core/describe.ts"
import { planForOutput } from "../../core/redact.ts"
import { globalFlags, policyFlags, showValuesFlag, specArg } from "./commands.ts"
import { dryRunPass, loadSpec, policyFrom, servicesFor, showValuesAllowed } from "./context.ts"
import { reportFailures } from "./errors.ts"
import { print, reportSpec, reportUnknownHosts } from "./output.ts"

export const planCommand = Command.make(
  "plan",
  {
    spec: specArg,
    ...globalFlags,
    ...policyFlags,
    showValues: showValuesFlag,
    detailedExitcode: Flag.Boolean("detailed-exitcode").pipe(
      Flag.withDescription(
        "exit 0 when everything is as declared, 2 when there are changes or something is left alone (a skip), 1 on error"
      ),
      Flag.withDefault(false)
    )
  },
  (flags) =>
    reportFailures(
      Effect.gen(function* () {
        const showValues = yield* showValuesAllowed(flags.showValues)
        const loaded = yield* loadSpec(flags.spec, flags)
        reportSpec(loaded.spec)
        const pass = yield* dryRunPass(loaded, policyFrom(flags)).pipe(Effect.provide(servicesFor(loaded)))
        const plan = pass.finalPlan
        print(
          flags.json ? JSON.stringify(planForOutput(plan, { showValues }), null, 2) : describe(plan, { showValues })
        )
        reportUnknownHosts(plan.hosts)
        const errors = loaded.spec.problems.length > 0 || plan.hosts.some((h) => h.status === "unknown")
        if (errors) process.exitCode = 1
        // 2: not in sync, whether there are changes to make or something is left alone (a skip says why).
        else if (flags.detailedExitcode && outOfSync(plan)) process.exitCode = 2
      })
    )
).pipe(Command.withDescription("show what moor would change, and why, without changing anything"))
