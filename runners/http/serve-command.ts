/**
 * `moor serve [SPEC] --port 8080 --host 127.0.0.1`: the HTTP runner as a long-running server.
 * Secrets come from the environment only (MOOR_API_TOKEN, MOOR_GITHUB_WEBHOOK_SECRET); a route
 * whose secret is not set is not served, and with none set the server refuses to start. SIGINT or
 * SIGTERM stops accepting requests, cancels a queued pass and lets a running one finish (up to
 * `--drain-timeout`), then exits.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Config, Effect, Layer, Logger, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpRouter, HttpServer } from "effect/http"
import { createServer } from "node:http"
import { formatProblem, SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { globalFlags, policyFlags, specArg } from "../cli/commands.ts"
import { loadSpec, servicesFor } from "../cli/context.ts"
import { CliFailure, reportFailures } from "../cli/errors.ts"
import { type HttpAppRequirements, httpRoutes, httpServices } from "./app.ts"
import { Git } from "./git.ts"
import { Heartbeat } from "./heartbeat.ts"
import {
  defaultPassSettings,
  envConfig,
  fromEnv,
  routeStatus,
  type ServeSettings,
  settingsProblems
} from "./settings.ts"

const optionalString = (name: string, env: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withDescription(description),
    Flag.withFallbackConfig(Config.String(env)),
    Flag.optional,
    Flag.map(Option.getOrUndefined)
  )

export const serveFlags = {
  spec: specArg,
  scope: globalFlags.scope,
  dockerHost: globalFlags.dockerHost,
  repo: globalFlags.repo,
  ...policyFlags,
  port: Flag.Int("port").pipe(
    Flag.withDescription("the port to listen on (0: any free port)"),
    Flag.withFallbackConfig(Config.Int("MOOR_HTTP_PORT")),
    Flag.withDefault(8080)
  ),
  host: Flag.String("host").pipe(
    Flag.withDescription("the address to listen on (0.0.0.0: every interface; put TLS in front)"),
    Flag.withFallbackConfig(Config.String("MOOR_HTTP_HOST")),
    Flag.withDefault("127.0.0.1")
  ),
  githubRepository: optionalString(
    "github-repository",
    "MOOR_GITHUB_REPOSITORY",
    "owner/name: pushes to this repository's branch update the spec checkout"
  ),
  githubBranch: optionalString("github-branch", "MOOR_GITHUB_BRANCH", "the branch whose pushes act (default main)"),
  githubCheckout: optionalString(
    "github-checkout",
    "MOOR_GITHUB_CHECKOUT",
    "the git checkout a push updates (default: the spec directory)"
  ),
  drainTimeout: Flag.Int("drain-timeout").pipe(
    Flag.withDescription("on shutdown, seconds a running pass may take to finish"),
    Flag.withDefault(60)
  ),
  logFormat: Flag.Literals("log-format", ["text", "json"]).pipe(
    Flag.withDescription("logfmt lines or one JSON object per line"),
    Flag.withDefault("text" as const)
  )
}

/**
 * The Node server as a layer: `requirements` gives Docker, Repo, Bus, Git, SpecLoader and Heartbeat
 * (share one `Heartbeat.layer` with a watch loop in the same process). The services are built
 * before the server listens and closed after it stops, so a running pass finishes on shutdown.
 */
export const httpServerLayer = <E>(
  settings: ServeSettings,
  requirements: Layer.Layer<HttpAppRequirements, E>,
  listen: { readonly port: number; readonly host: string },
  announce: (address: string) => Effect.Effect<void> = (address) => Effect.logInfo(`moor serve listening on ${address}`)
) => {
  const services = httpServices(settings).pipe(Layer.provideMerge(requirements))
  const { on, off } = routeStatus(settings)
  const started = Layer.effectDiscard(
    Effect.gen(function* () {
      yield* announce(HttpServer.formatAddress((yield* HttpServer.HttpServer).address))
      for (const r of on) yield* Effect.logInfo(`serving ${r}`)
      for (const r of off) yield* Effect.logWarning(`not serving ${r}`)
    })
  )
  return Layer.merge(HttpRouter.serve(httpRoutes(settings), { disableListenLog: true }), started).pipe(
    Layer.provide(NodeHttpServer.layer(createServer, listen)),
    Layer.provide(services)
  )
}

export const serveCommand = Command.make("serve", serveFlags, (flags) =>
  reportFailures(
    Effect.gen(function* () {
      const env = yield* envConfig.pipe(
        Effect.mapError((e) => new CliFailure({ message: `configuration: ${e.message}`, exitCode: 2 }))
      )
      const settings = fromEnv(env, {
        spec: flags.spec,
        scope: Option.getOrUndefined(flags.scope),
        dockerHost: Option.getOrUndefined(flags.dockerHost),
        repo: Option.getOrUndefined(flags.repo),
        policy: { prune: flags.prune, pull: flags.pull },
        githubRepository: flags.githubRepository,
        githubBranch: flags.githubBranch,
        githubCheckout: flags.githubCheckout,
        drainTimeoutMs: flags.drainTimeout * 1000,
        pass: defaultPassSettings
      })
      const problems = settingsProblems(settings)
      if (problems.length > 0)
        return yield* new CliFailure({
          message: `moor serve cannot start:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
          exitCode: 2
        })
      const loaded = yield* loadSpec(settings.spec, { ...flags, json: false, quiet: true })
      for (const p of loaded.spec.problems) yield* Effect.logWarning(`spec problem: ${formatProblem(p)}`)

      const requirements = Layer.mergeAll(
        servicesFor(loaded),
        Git.layer,
        Heartbeat.layer,
        Layer.succeed(SpecLoader, yield* SpecLoader)
      )
      const server = httpServerLayer(settings, requirements, { port: flags.port, host: flags.host }, (address) =>
        Effect.logInfo(
          `moor serve listening on ${address} (spec ${settings.spec}, scope ${loaded.desired.scope}, hosts ${loaded.hosts.join(", ")})`
        )
      )
      yield* Layer.launch(server).pipe(
        Effect.catchTag("ServeError", (e) =>
          Effect.fail(
            new CliFailure({
              message: `cannot listen on ${flags.host}:${flags.port}: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}`,
              exitCode: 1
            })
          )
        ),
        Effect.ensuring(Effect.logInfo("moor serve stopped"))
      )
    }).pipe(Effect.provide(Logger.layer([flags.logFormat === "json" ? Logger.consoleJson : Logger.consoleLogFmt])))
  )
).pipe(
  Command.withDescription(
    "serve the HTTP API and webhooks (POST /v1/reconcile, GET /v1/runs/:id, POST /v1/hooks/github, POST /v1/hooks/image, /healthz, /readyz, /metrics)"
  )
)
