/** `moor logs APP [SERVICE]`: the app's containers' logs, each line prefixed by its service; --follow, --tail. */
import { Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Docker } from "../../adapters/docker/Docker.ts"
import { Label } from "../../core/names.ts"
import { globalFlags } from "./commands.ts"
import { loadSpec, servicesFor } from "./context.ts"
import { CliFailure, reportFailures } from "./errors.ts"
import { dim, print } from "./output.ts"

export const logsCommand = Command.make(
  "logs",
  {
    app: Argument.String("app").pipe(Argument.withDescription("the app")),
    service: Argument.String("service").pipe(Argument.withDescription("only this service"), Argument.optional),
    spec: Flag.String("spec").pipe(
      Flag.withDescription("the spec (default: MOOR_SPEC or .)"),
      Flag.withDefault(process.env.MOOR_SPEC ?? ".")
    ),
    ...globalFlags,
    follow: Flag.Boolean("follow").pipe(
      Flag.withAlias("f"),
      Flag.withDescription("keep printing new lines"),
      Flag.withDefault(false)
    ),
    tail: Flag.Int("tail").pipe(Flag.withDescription("only the last N lines of each container"), Flag.optional)
  },
  (flags) =>
    reportFailures(
      Effect.gen(function* () {
        const loaded = yield* loadSpec(flags.spec, flags)
        const body = Effect.gen(function* () {
          const docker = yield* Docker
          const sources: Array<Stream.Stream<string, unknown>> = []
          for (const host of loaded.hosts) {
            const observed = yield* docker.observe(host, loaded.desired.scope)
            if (observed._tag !== "Known") continue
            for (const c of observed.containers) {
              if (c.labels[Label.app] !== flags.app) continue
              const service = c.labels[Label.service] ?? "?"
              if (Option.isSome(flags.service) && service !== flags.service.value) continue
              const prefix = dim(`${loaded.hosts.length > 1 ? `${host}/` : ""}${service} | `)
              sources.push(
                docker
                  .logs(host, c.id, {
                    follow: flags.follow,
                    ...(Option.isSome(flags.tail) ? { tail: flags.tail.value } : {})
                  })
                  .pipe(Stream.map((line) => `${prefix}${line}`))
              )
            }
          }
          if (sources.length === 0) {
            return yield* new CliFailure({
              message: `no containers of app ${flags.app}${Option.isSome(flags.service) ? `, service ${flags.service.value}` : ""} in scope ${loaded.desired.scope}`,
              exitCode: 1
            })
          }
          yield* Stream.runForEach(
            flags.follow
              ? Stream.mergeAll(sources, { concurrency: "unbounded" })
              : Stream.mergeAll(sources, { concurrency: 1 }),
            (line) => Effect.sync(() => print(line))
          )
        })
        yield* body.pipe(Effect.provide(servicesFor(loaded)))
      })
    )
).pipe(Command.withDescription("print an app's container logs"))
