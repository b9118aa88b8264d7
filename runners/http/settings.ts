/**
 * What the HTTP runner is configured with: the spec, the secrets, the GitHub repository and branch
 * whose pushes update the spec checkout. Secrets come from the environment only (never flags, which
 * `ps` shows) and stay `Redacted`. Secure by default: a route whose secret is not configured is not
 * served (and the server says so at startup); with no secret at all the server refuses to start.
 */
import { Config, Context, Effect, Option, Redacted } from "effect"
import type { Policy } from "../../core/model/policy.ts"

export interface GithubSettings {
  /** The webhook's secret: `X-Hub-Signature-256` is the HMAC-SHA256 of the body with it. */
  readonly secret: Redacted.Redacted<string>
  /** `owner/name` whose pushes update the checkout; unset: pushes are acknowledged and ignored. */
  readonly repository: string | undefined
  readonly branch: string
  /** The git checkout to update on a push (default: the spec directory). */
  readonly checkout: string
}

export interface PassSettings {
  readonly maxRounds: number
  /** After changes, how long a pass keeps looking while containers are still starting. */
  readonly settleMs: number
  readonly leaseTtlMs: number
  readonly leaseWaitMs: number
}

export interface ServeSettings {
  /** The spec directory (or Compose file). */
  readonly spec: string
  readonly scope?: string | undefined
  readonly dockerHost?: string | undefined
  /** sqlite:PATH, postgres://..., memory (default: MOOR_REPO, else the spec's default file: default-location.ts). */
  readonly repo?: string | undefined
  readonly policy: Partial<Policy>
  /** Bearer token of `/v1/reconcile`, `/v1/runs/:id` and `/v1/hooks/image`; unset: those routes are off. */
  readonly apiToken: Redacted.Redacted<string> | undefined
  /** Unset: `/v1/hooks/github` is off. */
  readonly github: GithubSettings | undefined
  /** Largest request body read, in bytes (default 1 MiB). */
  readonly bodyLimitBytes: number
  readonly pass: PassSettings
  /** On shutdown, how long to let a running pass finish before it is interrupted. */
  readonly drainTimeoutMs: number
}

export class Settings extends Context.Service<Settings, ServeSettings>()("moor/http/Settings") {}

export const MIB = 1024 * 1024
export const MIN_SECRET_LENGTH = 16

export const defaultPassSettings: PassSettings = {
  maxRounds: 5,
  settleMs: 60_000,
  leaseTtlMs: 120_000,
  leaseWaitMs: 30_000
}

const optionalRedacted = (name: string) =>
  Config.option(Config.Redacted(name)).pipe(
    Config.map((o) => Option.filter(o, (r) => Redacted.value(r).trim() !== "")),
    Config.map(Option.getOrUndefined)
  )
const optionalString = (name: string) =>
  Config.option(Config.String(name)).pipe(
    Config.map((o) => Option.filter(o, (s) => s.trim() !== "")),
    Config.map(Option.getOrUndefined)
  )

/** The environment's part of the settings. */
export const envConfig = Config.all({
  spec: Config.String("MOOR_SPEC").pipe(Config.withDefault(".")),
  apiToken: optionalRedacted("MOOR_API_TOKEN"),
  githubSecret: optionalRedacted("MOOR_GITHUB_WEBHOOK_SECRET"),
  githubRepository: optionalString("MOOR_GITHUB_REPOSITORY"),
  githubBranch: Config.String("MOOR_GITHUB_BRANCH").pipe(Config.withDefault("main")),
  githubCheckout: optionalString("MOOR_GITHUB_CHECKOUT")
})
export type EnvSettings = typeof envConfig extends Config.Config<infer A> ? A : never

/** Settings from the environment alone (the serverless handler's default). */
export const settingsFromEnv: Effect.Effect<ServeSettings, Config.ConfigError> = Effect.map(envConfig, (env) =>
  fromEnv(env, {})
)

export const fromEnv = (
  env: EnvSettings,
  overrides: Partial<Omit<ServeSettings, "apiToken" | "github">> & {
    readonly githubRepository?: string | undefined
    readonly githubBranch?: string | undefined
    readonly githubCheckout?: string | undefined
  }
): ServeSettings => {
  const spec = overrides.spec ?? env.spec
  return {
    spec,
    scope: overrides.scope,
    dockerHost: overrides.dockerHost,
    repo: overrides.repo,
    policy: overrides.policy ?? {},
    apiToken: env.apiToken,
    github:
      env.githubSecret === undefined
        ? undefined
        : {
            secret: env.githubSecret,
            repository: overrides.githubRepository ?? env.githubRepository,
            branch: overrides.githubBranch ?? env.githubBranch,
            checkout: overrides.githubCheckout ?? env.githubCheckout ?? spec
          },
    bodyLimitBytes: overrides.bodyLimitBytes ?? MIB,
    pass: overrides.pass ?? defaultPassSettings,
    drainTimeoutMs: overrides.drainTimeoutMs ?? 60_000
  }
}

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]*)\/[A-Za-z0-9._-]+$/
/** A branch name git accepts and that cannot be read as an option. */
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]+(?<![./])$/

/** What is wrong with the settings, one line each, saying what to set: empty when they can be served. */
export const settingsProblems = (s: ServeSettings): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (s.apiToken === undefined && s.github === undefined)
    problems.push(
      "nothing to serve: set MOOR_API_TOKEN (for /v1/reconcile, /v1/runs and /v1/hooks/image) and/or MOOR_GITHUB_WEBHOOK_SECRET (for /v1/hooks/github); moor serve has no unauthenticated mode"
    )
  if (s.apiToken !== undefined && Redacted.value(s.apiToken).length < MIN_SECRET_LENGTH)
    problems.push(
      `MOOR_API_TOKEN is too short: use at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`
    )
  if (s.github !== undefined) {
    if (Redacted.value(s.github.secret).length < MIN_SECRET_LENGTH)
      problems.push(
        `MOOR_GITHUB_WEBHOOK_SECRET is too short: use at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`
      )
    if (s.github.repository !== undefined && !REPOSITORY.test(s.github.repository))
      problems.push(`the GitHub repository "${s.github.repository}" is not of the form owner/name`)
    if (!BRANCH.test(s.github.branch)) problems.push(`the branch "${s.github.branch}" is not a valid git branch name`)
  }
  if (!Number.isInteger(s.bodyLimitBytes) || s.bodyLimitBytes < 1024)
    problems.push(`the body limit must be an integer of at least 1024 bytes (got ${s.bodyLimitBytes})`)
  return problems
}

/** Which routes are served and which are not (and why), for the startup message. */
export const routeStatus = (
  s: ServeSettings
): { readonly on: ReadonlyArray<string>; readonly off: ReadonlyArray<string> } => {
  const on = ["GET /healthz", "GET /readyz", "GET /metrics"]
  const off: Array<string> = []
  if (s.apiToken !== undefined) on.push("POST /v1/reconcile", "GET /v1/runs/:id", "POST /v1/hooks/image")
  else off.push("POST /v1/reconcile, GET /v1/runs/:id, POST /v1/hooks/image (MOOR_API_TOKEN is not set)")
  if (s.github !== undefined) {
    on.push(
      s.github.repository === undefined
        ? "POST /v1/hooks/github (pushes ignored: no repository set, MOOR_GITHUB_REPOSITORY)"
        : `POST /v1/hooks/github (pushes to ${s.github.repository}@${s.github.branch} update ${s.github.checkout})`
    )
  } else off.push("POST /v1/hooks/github (MOOR_GITHUB_WEBHOOK_SECRET is not set)")
  return { on, off }
}
