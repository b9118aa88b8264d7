/**
 * The Action's inputs, read through a getter (`core.getInput` in the Action, a map in tests) and
 * checked: a wrong value is reported with the input's name, what was given and what is accepted.
 * The defaults here are the ones action.yml declares (the runner passes those; a direct
 * `node dist/action.js` relies on these).
 */
import { Result } from "effect"

export type Mode = "plan" | "apply"

export interface ActionInputs {
  /** The spec: a directory with one folder per app, or one Compose file. */
  readonly spec: string
  readonly mode: Mode
  /** The default host's engine (`unix://`, `tcp://`, `ssh://`); absent: the spec's, or DOCKER_HOST. */
  readonly dockerHost: string | undefined
  /** The owner label; absent: the spec's. */
  readonly scope: string | undefined
  readonly prune: boolean
  readonly pull: "missing" | "always"
  readonly failOnDrift: boolean
  /** MOOR_REPO syntax; absent: MOOR_REPO, or sqlite under the spec. */
  readonly repo: string | undefined
  /** MOOR_BUS syntax; absent: MOOR_BUS (default memory). */
  readonly bus: string | undefined
  /** Only these apps (and what they require); absent: every app. */
  readonly apps: ReadonlyArray<string> | undefined
}

/** The defaults of the optional inputs, as action.yml declares them. */
export const inputDefaults = {
  spec: ".",
  mode: "plan",
  prune: "true",
  pull: "missing",
  "fail-on-drift": "false"
} as const

const trueWords = new Set(["true", "True", "TRUE"])
const falseWords = new Set(["false", "False", "FALSE"])

/** A YAML 1.2 core-schema boolean, as `core.getBooleanInput` accepts, with a message naming the input. */
const booleanInput = (name: string, value: string): Result.Result<boolean, string> =>
  trueWords.has(value)
    ? Result.succeed(true)
    : falseWords.has(value)
      ? Result.succeed(false)
      : Result.fail(`input "${name}" must be true or false, not "${value}"`)

const oneOf = <const T extends string>(
  name: string,
  value: string,
  allowed: ReadonlyArray<T>
): Result.Result<T, string> => {
  const found = allowed.find((a) => a === value)
  return found === undefined
    ? Result.fail(`input "${name}" must be ${allowed.join(" or ")}, not "${value}"`)
    : Result.succeed(found)
}

const optional = (value: string): string | undefined => (value === "" ? undefined : value)

/** App names separated by commas, spaces or new lines (a YAML block list works too). */
export const parseApps = (value: string): ReadonlyArray<string> | undefined => {
  const names = value
    .split(/[\s,]+/)
    .map((n) => n.replace(/^-\s*/, "").trim())
    .filter((n) => n !== "" && n !== "-")
  return names.length === 0 ? undefined : [...new Set(names)]
}

/**
 * The inputs from `get(name)` (the raw text, "" when not given; values are trimmed). Every problem
 * is reported at once, one per line.
 */
export const readInputs = (get: (name: string) => string): Result.Result<ActionInputs, string> => {
  const raw = (name: string, fallback = ""): string => {
    const v = get(name).trim()
    return v === "" ? fallback : v
  }
  const problems: Array<string> = []
  const check = <A>(r: Result.Result<A, string>, fallback: A): A => {
    if (Result.isSuccess(r)) return r.success
    problems.push(r.failure)
    return fallback
  }
  const inputs: ActionInputs = {
    spec: raw("spec", inputDefaults.spec),
    mode: check(oneOf("mode", raw("mode", inputDefaults.mode), ["plan", "apply"]), "plan"),
    dockerHost: optional(raw("docker-host")),
    scope: optional(raw("scope")),
    prune: check(booleanInput("prune", raw("prune", inputDefaults.prune)), true),
    pull: check(oneOf("pull", raw("pull", inputDefaults.pull), ["missing", "always"]), "missing"),
    failOnDrift: check(booleanInput("fail-on-drift", raw("fail-on-drift", inputDefaults["fail-on-drift"])), false),
    repo: optional(raw("repo")),
    bus: optional(raw("bus")),
    apps: parseApps(raw("apps"))
  }
  return problems.length === 0 ? Result.succeed(inputs) : Result.fail(problems.join("\n"))
}
