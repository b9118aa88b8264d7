/**
 * What every command shares: the global flags, the spec loaded and decoded, and the layers built
 * from it (the spec says which engines exist; MOOR_REPO and MOOR_BUS say where records and events go).
 */
import { Effect, Layer, Option, Result } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import type { EngineConfig } from "../../adapters/docker/endpoint.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { defaultRepo, Repo } from "../../adapters/repo/Repo.ts"
import { NAME } from "../../adapters/spec/names.ts"
import { type LoadedSpec, SpecLoader, toDesiredState, withScope } from "../../adapters/spec/SpecLoader.ts"
import type { DesiredState } from "../../core/model/desired.ts"
import { makePolicy, type Policy } from "../../core/model/policy.ts"
import { defaultHostOf } from "../../core/plan/apps.ts"
import { newHolderId, newPassId } from "../pass/ids.ts"
import { reconcilePass } from "../pass/pass.ts"
import { CliFailure } from "./errors.ts"
import { printErr, yellow } from "./output.ts"

export interface GlobalFlags {
  readonly scope: Option.Option<string>
  readonly dockerHost: Option.Option<string>
  readonly repo: Option.Option<string>
  readonly json: boolean
  readonly quiet: boolean
  /** Compose profiles to enable (`--profile`, repeated). */
  readonly profile?: ReadonlyArray<string>
}

export interface PolicyFlags {
  readonly prune: boolean
  readonly pull: "missing" | "always"
  readonly retryFailed?: boolean
}

export interface Loaded {
  readonly spec: LoadedSpec
  readonly desired: DesiredState
  readonly hosts: ReadonlyArray<string>
  readonly engines: ReadonlyArray<EngineConfig>
  readonly repoUrl: string
}

const noted = new Set<string>()

/** The spec's default repository; what there is to know about it is said once per process (on stderr). */
const defaultRepoOf = (root: string): string => {
  const { url, note } = defaultRepo(root)
  if (note !== undefined && !noted.has(root)) {
    noted.add(root)
    printErr(`${yellow("warning:")} ${note}`)
  }
  return url
}

/** Loads and decodes the spec; a spec that cannot be used at all is a `SpecError` or `CliFailure`. */
export const loadSpec = Effect.fn("loadSpec")(function* (path: string, flags: GlobalFlags) {
  if (Option.isSome(flags.scope) && !NAME.test(flags.scope.value)) {
    return yield* new CliFailure({
      message: `the scope "${flags.scope.value}" (given with --scope, or the scope input) is not valid: use lowercase a-z, 0-9, '_', '.', '-', starting with a letter or digit`,
      exitCode: 1
    })
  }
  const loader = yield* SpecLoader
  const raw = yield* loader.load(path, { profiles: flags.profile })
  const spec: LoadedSpec = Option.isSome(flags.scope) ? withScope(raw, flags.scope.value) : raw
  const decoded = toDesiredState(spec)
  if (Result.isFailure(decoded)) {
    return yield* new CliFailure({
      message: `the spec at ${path} is not valid:\n${decoded.failure.message}`,
      exitCode: 1
    })
  }
  const desired = decoded.success
  const defaultHost = defaultHostOf(desired)
  // --docker-host replaces the default host's endpoint; its TLS material still applies to a tcp:// one,
  // its ssh settings to an ssh:// one.
  const engines: Array<EngineConfig> = spec.engines.map((e) =>
    Option.isSome(flags.dockerHost) && e.name === defaultHost
      ? {
          name: e.name,
          endpoint: flags.dockerHost.value,
          ...(e.tls !== undefined && flags.dockerHost.value.startsWith("tcp://") ? { tls: e.tls } : {}),
          ...(e.ssh !== undefined && flags.dockerHost.value.startsWith("ssh://") ? { ssh: e.ssh } : {})
        }
      : e
  )
  const repoUrl = Option.getOrElse(flags.repo, () => process.env.MOOR_REPO ?? defaultRepoOf(spec.root))
  return { spec, desired, hosts: desired.hosts.map((h) => h.name), engines, repoUrl } satisfies Loaded
})

/**
 * `--show-values`, allowed only when stdout is a terminal: a pipe, a file or a CI log keeps what it
 * is given, and an environment value never leaves moor in clear text otherwise.
 */
export const showValuesAllowed = (asked: boolean): Effect.Effect<boolean, CliFailure> =>
  !asked
    ? Effect.succeed(false)
    : process.stdout.isTTY === true
      ? Effect.succeed(true)
      : Effect.fail(
          new CliFailure({
            message:
              "--show-values prints environment values in clear, so only to a terminal, and stdout is not one (a pipe, a file or a CI log keeps what it is given): leave --show-values out to see each value as a digest",
            exitCode: 1
          })
        )

/** The services a command needs once the spec is known. */
export const servicesFor = (loaded: Loaded) =>
  Layer.mergeAll(DockerLive.layer(loaded.engines), Repo.layerFromUrl(loaded.repoUrl), Bus.layerFromEnv)

export const policyFrom = (flags: PolicyFlags, overrides: Partial<Policy> = {}): Policy =>
  makePolicy({ prune: flags.prune, pull: flags.pull, retryFailed: flags.retryFailed === true, ...overrides })

/** A pass that only observes and plans (`moor plan`, `moor status`): it takes no lease and changes nothing. */
export const dryRunPass = (loaded: Loaded, policy: Policy) =>
  Effect.gen(function* () {
    return yield* reconcilePass({
      id: yield* newPassId,
      trigger: "cli",
      desired: loaded.desired,
      policy,
      hosts: loaded.hosts,
      dryRun: true,
      holder: yield* newHolderId,
      lease: { ttlMs: 60_000, waitMs: 0 }
    })
  })
