/**
 * The HTTP app, served two ways from the same layers: `moor serve` (Node server, serve-command.ts)
 * and a web-standard handler (handler.ts). `httpRoutes(settings)` holds only the routes whose secret
 * is configured; `httpServices(settings)` is what they run on, given Docker, Repo, Bus, Git,
 * SpecLoader and Heartbeat from outside.
 */
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerRequest } from "effect/http"
import type { Bus } from "../../adapters/bus/Bus.ts"
import type { Docker } from "../../adapters/docker/Docker.ts"
import type { Repo } from "../../adapters/repo/Repo.ts"
import type { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { Deliveries } from "./deliveries.ts"
import type { Git } from "./git.ts"
import type { Heartbeat } from "./heartbeat.ts"
import { Metrics } from "./metrics.ts"
import { PassQueue } from "./pass-queue.ts"
import { Readiness } from "./readiness.ts"
import { answered, fail } from "./respond.ts"
import { apiRoutes } from "./routes-api.ts"
import { githubRoutes } from "./routes-github.ts"
import { healthRoutes } from "./routes-health.ts"
import { routeStatus, type ServeSettings, Settings } from "./settings.ts"
import { SpecSource } from "./spec-source.ts"

/** What the app needs from outside. */
export type HttpAppRequirements = Docker | Repo | Bus | Git | SpecLoader | Heartbeat

export type HttpServices = Settings | SpecSource | Metrics | Deliveries | PassQueue | Readiness

export const httpServices = (settings: ServeSettings): Layer.Layer<HttpServices, never, HttpAppRequirements> =>
  PassQueue.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(SpecSource.layer, Metrics.layer, Deliveries.layer, Readiness.layer)),
    Layer.provideMerge(Layer.succeed(Settings, settings))
  )

const notFound = (settings: ServeSettings) => {
  const { off } = routeStatus(settings)
  return HttpRouter.add(
    "*",
    "*",
    Effect.gen(function* () {
      const req = yield* HttpServerRequest.HttpServerRequest
      const path = req.url.split("?")[0] ?? req.url
      const disabled = off.find((o) => o.includes(` ${path.replace(/^\/v1\/runs\/[^/]+$/, "/v1/runs/:id")}`))
      return yield* answered(
        "unknown",
        fail(
          404,
          "not found",
          disabled === undefined
            ? `no route ${req.method} ${path}`
            : `${path} is not served: ${disabled.slice(disabled.lastIndexOf("(") + 1, -1)}`
        )
      )
    })
  )
}

/** The routes, for `HttpRouter.serve` or `HttpRouter.toWebHandler`. */
export const httpRoutes = (settings: ServeSettings) =>
  Layer.mergeAll(
    healthRoutes,
    settings.apiToken === undefined ? Layer.empty : apiRoutes(settings.apiToken),
    settings.github === undefined ? Layer.empty : githubRoutes(settings.github),
    notFound(settings)
  )
