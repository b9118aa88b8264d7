/**
 * `moor down APP [SPEC]`: removes an app's containers and networks, keeps its volumes unless
 * --volumes. Planned like any change: the app is taken out of the desired state, and only its
 * actions are applied. The next apply brings it back while it is still in the spec.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { reconcilePass } from "../pass/pass.ts"
import { newHolderId, newPassId } from "../pass/ids.ts"
import { passFailed, appsTable } from "./apply-command.ts"
import { globalFlags, specArg } from "./commands.ts"
import { loadSpec, policyFrom, servicesFor } from "./context.ts"
import { CliFailure, reportFailures } from "./errors.ts"
import { print, resultLine } from "./output.ts"

export const downCommand = Command.make(
  "down",
  {
    app: Argument.String("app").pipe(Argument.withDescription("the app to take down")),
    spec: specArg,
    ...globalFlags,
    volumes: Flag.Boolean("volumes").pipe(
      Flag.withDescription("also remove the app's named volumes (their data is lost)"),
      Flag.withDefault(false)
    )
  },
  (flags) =>
    reportFailures(
      Effect.gen(function* () {
        const loaded = yield* loadSpec(flags.spec, flags)
        // The app is named: it goes, whatever a part of the spec that cannot be read declares (which
        // only keeps apps taken for gone, and no other app is in this pass's plan).
        const desired = {
          ...loaded.desired,
          apps: loaded.desired.apps.filter((a) => a.name !== flags.app),
          invalid: loaded.desired.invalid.filter((a) => a.name !== flags.app),
          unreadable: []
        }
        const pass = yield* reconcilePass({
          id: yield* newPassId,
          trigger: "cli",
          desired,
          policy: policyFrom({ prune: true, pull: "missing" }, { removeVolumes: flags.volumes }),
          hosts: loaded.hosts,
          apps: [flags.app],
          maxRounds: 1,
          holder: yield* newHolderId,
          lease: { ttlMs: 120_000, waitMs: 30_000 },
          execute: { onResult: (r) => Effect.sync(() => flags.quiet || print(resultLine(r))) }
        }).pipe(Effect.provide(servicesFor(loaded)))
        if (pass.firstPlan.actions.length === 0) {
          // Taken down already (by another runner a moment before, or by an earlier down): done.
          // Not in the spec either: most likely a mistyped name.
          const inSpec = [...loaded.desired.apps, ...loaded.desired.invalid].some((a) => a.name === flags.app)
          if (!inSpec) {
            return yield* new CliFailure({
              message: `app ${flags.app} is not in the spec at ${flags.spec}, and nothing of it is on its hosts (scope ${desired.scope}): is the name right?`,
              exitCode: 1
            })
          }
          print(
            `${flags.app} is already down: nothing of it is on the hosts of ${flags.spec} (scope ${desired.scope}).`
          )
          return
        }
        if (!flags.quiet) print(appsTable(pass))
        print(`${flags.app} is down${flags.volumes ? ", volumes removed" : " (volumes kept; --volumes removes them)"}.`)
        if (passFailed(pass)) process.exitCode = 1
      })
    )
).pipe(Command.withDescription("remove an app's containers and networks (volumes only with --volumes)"))
