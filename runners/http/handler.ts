/**
 * The HTTP app as a web-standard handler, `(Request) => Promise<Response>`, for serverless
 * platforms and tests:
 *
 *   const { handler, dispose } = makeHandler()              // settings from the environment
 *   export default { fetch: (req, env, ctx) => handler(req, ctx) }
 *
 * An accepted pass must finish before the platform freezes the process: given a context with
 * `waitUntil`, the handler answers 202 at once and hands the pass to `waitUntil`; without it, it
 * answers once the pass has finished (the 202 body then also holds the pass's outcome).
 */
import { Context, Effect, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import type { Bus } from "../../adapters/bus/Bus.ts"
import type { Docker } from "../../adapters/docker/Docker.ts"
import type { Repo } from "../../adapters/repo/Repo.ts"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { servicesFor } from "../cli/context.ts"
import { type HttpAppRequirements, httpRoutes, httpServices } from "./app.ts"
import { Completion } from "./completion.ts"
import { Git } from "./git.ts"
import { Heartbeat } from "./heartbeat.ts"
import { type ServeSettings, Settings, settingsFromEnv, settingsProblems } from "./settings.ts"
import { SpecSource } from "./spec-source.ts"

export interface HandlerOptions {
  /** Default: read from the environment (MOOR_SPEC, MOOR_API_TOKEN, MOOR_GITHUB_*). */
  readonly settings?: ServeSettings | undefined
  /**
   * Everything the app runs on. Default: the engines the spec names, the repo of MOOR_REPO (or
   * `--repo`), the bus of MOOR_BUS, git, the spec loader on node:fs, a fresh heartbeat.
   */
  readonly layer?: Layer.Layer<HttpAppRequirements, unknown> | undefined
  /** Log every request (default true). */
  readonly logRequests?: boolean | undefined
}

export interface PlatformContext {
  /** Keeps the invocation alive until the promise settles (Cloudflare Workers, Vercel, Netlify...). */
  readonly waitUntil?: ((promise: Promise<unknown>) => void) | undefined
}

export interface WebHandler {
  readonly handler: (request: Request, context?: PlatformContext) => Promise<Response>
  /** Lets a running pass finish (up to the drain timeout), then closes connections. */
  readonly dispose: () => Promise<void>
}

/** Engines, repo and bus as the spec and the environment say (read when the handler is built). */
export const liveRequirements = (settings: ServeSettings): Layer.Layer<HttpAppRequirements, unknown> => {
  const base = Layer.mergeAll(SpecLoader.layer, Git.layer, Heartbeat.layer)
  const engines = Layer.unwrap(
    Effect.map(
      SpecSource.use((s) => s.load),
      (loaded) => servicesFor(loaded) as Layer.Layer<Docker | Repo | Bus, unknown>
    )
  ).pipe(Layer.provide(SpecSource.layer), Layer.provide(Layer.succeed(Settings, settings)), Layer.provide(base))
  return Layer.merge(engines, base)
}

const fatal = (message: string) =>
  new Response(JSON.stringify({ error: "moor could not start", detail: message }), {
    status: 503,
    headers: { "content-type": "application/json", "cache-control": "no-store" }
  })

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : String(e)

/** Throws when the settings cannot be served (no secret configured, a short token...). */
export const makeHandler = (options: HandlerOptions = {}): WebHandler => {
  const settings = options.settings ?? Effect.runSync(settingsFromEnv)
  const problems = settingsProblems(settings)
  if (problems.length > 0) throw new Error(`moor: cannot serve:\n${problems.map((p) => `  - ${p}`).join("\n")}`)
  const requirements = options.layer ?? liveRequirements(settings)
  const services = httpServices(settings).pipe(Layer.provideMerge(requirements))
  const web = HttpRouter.toWebHandler(
    // The services must be in the layer's output: requests run in the context it builds.
    httpRoutes(settings).pipe(Layer.provideMerge(services), Layer.provide(HttpServer.layerServices)),
    { disableLogger: options.logRequests === false }
  )
  return {
    handler: (request, context) =>
      web
        .handler(
          request,
          Context.make(
            Completion,
            context?.waitUntil === undefined ? { _tag: "wait" } : { _tag: "waitUntil", waitUntil: context.waitUntil }
          )
        )
        .catch((e: unknown) => fatal(messageOf(e))),
    dispose: web.dispose
  }
}

export type { ServeSettings } from "./settings.ts"
