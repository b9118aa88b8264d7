/** `moor status [SPEC]`: per app and service, what the engines show, next to what the repo remembers. */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { Repo } from "../../adapters/repo/Repo.ts"
import { formatDuration } from "../../core/plan/format.ts"
import { globalFlags, policyFlags, specArg } from "./commands.ts"
import { dryRunPass, loadSpec, policyFrom, servicesFor } from "./context.ts"
import { reportFailures } from "./errors.ts"
import { dim, green, print, red, yellow } from "./output.ts"

const colour = (state: string) =>
  state === "running" ? green(state) : state === "failed" || state === "unknown" ? red(state) : yellow(state)

export const statusCommand = Command.make("status", { spec: specArg, ...globalFlags, ...policyFlags }, (flags) =>
  reportFailures(
    Effect.gen(function* () {
      const loaded = yield* loadSpec(flags.spec, flags)
      const body = Effect.gen(function* () {
        const repo = yield* Repo
        const pass = yield* dryRunPass(loaded, policyFrom(flags))
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const remembered = new Map<string, { state: string; changedAt: number }>()
        for (const host of loaded.hosts) {
          const rows = yield* repo.appStates(loaded.desired.scope, host).pipe(Effect.orElseSucceed(() => []))
          for (const r of rows) remembered.set(`${host}/${r.app}`, { state: r.state, changedAt: r.changedAt })
        }
        const plan = pass.finalPlan
        if (flags.json) {
          print(
            JSON.stringify(
              {
                scope: plan.scope,
                hosts: plan.hosts,
                apps: plan.apps.map((a) => ({ ...a, repo: remembered.get(`${a.host}/${a.app}`) ?? null }))
              },
              null,
              2
            )
          )
          return
        }
        for (const h of plan.hosts) {
          print(
            `host ${h.host}: ${h.status === "known" ? green("reachable") : red(`unknown (${h.reason ?? "no answer"})`)}`
          )
        }
        const rows = plan.apps.map((a) => {
          const r = remembered.get(`${a.host}/${a.app}`)
          return [
            a.host,
            a.app,
            a.state,
            r === undefined ? "-" : `${r.state} ${dim(`(${formatDuration(now - r.changedAt)} ago)`)}`,
            a.skipped === undefined ? "" : (a.skipped.split("\n")[0] ?? "")
          ] as const
        })
        const w = [4, 3, 6].map((min, i) => Math.max(min, ...rows.map((r) => r[i]!.length)))
        print(`\n${"HOST".padEnd(w[0]!)}  ${"APP".padEnd(w[1]!)}  ${"ENGINE".padEnd(w[2]!)}  REPO`)
        for (const [host, app, state, repoState, note] of rows) {
          print(
            `${host.padEnd(w[0]!)}  ${app.padEnd(w[1]!)}  ${colour(state)}${" ".repeat(w[2]! - state.length)}  ${repoState}${note === "" ? "" : dim(`  ${note}`)}`
          )
          for (const s of plan.apps.find((a) => a.host === host && a.app === app)?.services ?? []) {
            print(
              dim(
                `${"".padEnd(w[0]!)}    ${s.service}: ${s.state}${s.container === undefined ? "" : ` (${s.container})`}`
              )
            )
          }
        }
      })
      yield* body.pipe(Effect.provide(servicesFor(loaded)))
    })
  )
).pipe(Command.withDescription("show each app's state on the engines, and what the repo remembers"))
