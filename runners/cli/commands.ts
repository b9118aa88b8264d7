/** The flags and arguments the commands share. */
import { Argument, Flag } from "effect/cli"

export const specArg = Argument.String("spec").pipe(
  Argument.withDescription(
    "the spec: a directory with one folder per app, or one Compose file (default: MOOR_SPEC or .)"
  ),
  Argument.withDefault(process.env.MOOR_SPEC ?? ".")
)

export const globalFlags = {
  scope: Flag.String("scope").pipe(
    Flag.withDescription("the owner label moor puts on everything it creates (default: the spec's)"),
    Flag.optional
  ),
  dockerHost: Flag.String("docker-host").pipe(
    Flag.withDescription(
      "the engine of the default host: unix:///path, tcp://host:port or ssh://user@host (default: DOCKER_HOST)"
    ),
    Flag.optional
  ),
  repo: Flag.String("repo").pipe(
    Flag.withDescription(
      "where runs and states are kept: sqlite:PATH, postgres://..., memory (default: MOOR_REPO, else <spec>/.moor/state.db, or moor's state directory when the spec is in a git checkout: docs/state.md)"
    ),
    Flag.optional
  ),
  profile: Flag.String("profile").pipe(
    Flag.withDescription(
      "enable a Compose profile (repeat for more; also COMPOSE_PROFILES, and profiles: in moor.yaml)"
    ),
    Flag.atLeast(0)
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON instead of text"), Flag.withDefault(false)),
  quiet: Flag.Boolean("quiet").pipe(
    Flag.withAlias("q"),
    Flag.withDescription("print only errors and the summary"),
    Flag.withDefault(false)
  )
}

/** `moor plan` and `moor apply`: environment values in clear, on a terminal only (see context.ts). */
export const showValuesFlag = Flag.Boolean("show-values").pipe(
  Flag.withDescription(
    "show the services' environment values in clear (only when stdout is a terminal); otherwise each is a digest"
  ),
  Flag.withDefault(false)
)

export const policyFlags = {
  prune: Flag.Boolean("prune").pipe(
    Flag.withDescription("remove moor's containers whose app or service left the spec (--no-prune keeps them)"),
    Flag.withDefault(true)
  ),
  retryFailed: Flag.Boolean("retry-failed").pipe(
    Flag.withDescription("try again updates that failed and were rolled back, although their spec did not change"),
    Flag.withDefault(false)
  ),
  pull: Flag.Literals("pull", ["missing", "always"]).pipe(
    Flag.withDescription("pull images only when missing, or before every create"),
    Flag.withDefault("missing" as const)
  )
}
