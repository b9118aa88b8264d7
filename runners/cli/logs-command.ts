/** `moor logs APP [SERVICE]`: the app's containers' logs, each line prefixed by its service; --follow, --tail. */
import { Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Docker, type DockerError } from "../../adapters/docker/Docker.ts"
import { Label } from "../../core/names.ts"
import { globalFlags } from "./commands.ts"
import { loadSpec, servicesFor } from "./context.ts"
import { CliFailure, reportFailures } from "./errors.ts"
import { dim, print } from "./output.ts"

/**
 * One stream of lines per container of the app (of one service, when given), each line prefixed by
 * its service (and host, on a fleet). A container gone by the time its logs are read (replaced or
 * removed by another runner since it was observed) has no lines; it is not an error.
 */
export const logSources = (
  hosts: ReadonlyArray<string>,
  scope: string,
  app: string,
  service: Option.Option<string>,
  options: { readonly follow: boolean; readonly tail?: number | undefined }
): Effect.Effect<Array<Stream.Stream<string, DockerError>>, never, Docker> =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const sources: Array<Stream.Stream<string, DockerError>> = []
    for (const host of hosts) {
      const observed = yield* docker.observe(host, scope)
      if (observed._tag !== "Known") continue
      for (const c of observed.containers) {
        if (c.labels[Label.app] !== app) continue
        const name = c.labels[Label.service] ?? "?"
        if (Option.isSome(service) && name !== service.value) continue
        const prefix = dim(`${hosts.length > 1 ? `${host}/` : ""}${name} | `)
        sources.push(
          docker.logs(host, c.id, options).pipe(
            Stream.map((line) => `${prefix}${line}`),
            Stream.catchIf(
              (e) => e.kind === "not-found",
              () => Stream.empty
            )
          )
        )
      }
    }
    return sources
  })

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
          const sources = yield* logSources(loaded.hosts, loaded.desired.scope, flags.app, flags.service, {
            follow: flags.follow,
            ...(Option.isSome(flags.tail) ? { tail: flags.tail.value } : {})
          })
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
