/**
 * What may leave moor: no environment value of a service and no password in a URL, whichever way
 * it goes out (the plan as JSON, the HTTP dry run, the Action's outputs, run records, events, logs).
 * The plan's actions carry the real values, because the executor needs them; every output edge
 * goes through this one module instead:
 * - `redactPlan` / `planForOutput`: each environment value in a plan (containers to create, hooks'
 *   variables) becomes a short digest, so a plan still shows which value changed, never what it is;
 * - `textRedactor`: free text (an engine's error, a hook's output) with each known value replaced
 *   by `[redacted KEY]`, and the credentials of every URL in it masked;
 * - `maskUrls`: the password (or token) of every URL in a text masked.
 */
import { encodePlan } from "./decode.ts"
import { hash128 } from "./hash.ts"
import type { DesiredState } from "./model/desired.ts"
import type { Action, ContainerConfig, Plan, Step } from "./model/plan.ts"

/** A value as shown in place of itself: the same value gives the same digest, nothing more. */
export const valueDigest = (value: string): string => `digest:${hash128(value).slice(0, 12)}`

const redactConfig = (c: ContainerConfig): ContainerConfig => ({
  ...c,
  env: c.env.map(([key, value]) => [key, valueDigest(value)] as const)
})

const redactStep = (s: Step): Step => (s._tag === "create" ? { ...s, container: redactConfig(s.container) } : s)

const redactAction = (a: Action): Action => {
  switch (a._tag) {
    case "create":
      return { ...a, container: redactConfig(a.container) }
    case "recreate":
      return {
        ...a,
        container: redactConfig(a.container),
        steps: a.steps.map(redactStep),
        rollback: a.rollback.map(redactStep)
      }
    case "run-hook":
      return { ...a, env: Object.fromEntries(Object.entries(a.env).map(([k, v]) => [k, valueDigest(v)])) }
    default:
      return a
  }
}

/** The plan with every environment value replaced by its digest. */
export const redactPlan = (plan: Plan): Plan => ({ ...plan, actions: plan.actions.map(redactAction) })

/**
 * The plan as JSON for output (`moor plan --json`, `moor apply --json`, the HTTP dry run, the
 * Action's `plan` output): redacted, unless `showValues` (a person at a terminal asked for them).
 */
export const planForOutput = (plan: Plan, options: { readonly showValues?: boolean } = {}): unknown =>
  encodePlan(options.showValues === true ? plan : redactPlan(plan))

/** A secret as the redactor knows it: the variable's name and its value. */
export type Secret = readonly [key: string, value: string]

/** Every service's environment in the desired state: what a hook or an engine's error could echo. */
export const secretsOfDesired = (desired: DesiredState): Array<Secret> =>
  desired.apps.flatMap((app) =>
    Object.values(app.services).flatMap((s) => Object.entries(s.environment ?? {}) as Array<Secret>)
  )

const configsOf = (a: Action): ReadonlyArray<ContainerConfig> => {
  if (a._tag === "create") return [a.container]
  if (a._tag !== "recreate") return []
  const steps = [...a.steps, ...a.rollback].flatMap((s) => (s._tag === "create" ? [s.container] : []))
  return [a.container, ...steps]
}

/** Every environment value of the containers a plan creates. */
export const secretsOfPlan = (plan: Plan): Array<Secret> => plan.actions.flatMap(configsOf).flatMap((c) => c.env)

/**
 * Values shorter than this are not looked for in free text: "1", "true" or "8080" would turn every
 * message into noise, and hide nothing worth hiding. Structured outputs digest every value.
 */
export const MIN_REDACTED_LENGTH = 6

/**
 * Free text as it may be shown: every occurrence of a secret's value (at least
 * `MIN_REDACTED_LENGTH` characters) replaced by `[redacted KEY]`, the longest values first, and
 * the credentials of every URL masked. Output kept by its end (an engine keeps the last 64 KiB of
 * an exec's output) may start inside a value: a text that starts with the end of one (at least
 * `MIN_REDACTED_LENGTH` characters of it) has that part masked too.
 */
export const textRedactor = (secrets: Iterable<Secret>): ((text: string) => string) => {
  const byValue = new Map<string, string>()
  for (const [key, value] of secrets)
    if (value.length >= MIN_REDACTED_LENGTH && !byValue.has(value)) byValue.set(value, key)
  const values = [...byValue.keys()].sort((a, b) => b.length - a.length)
  const cutTail = (text: string): string => {
    for (const value of values) {
      for (let k = value.length - 1; k >= MIN_REDACTED_LENGTH; k--) {
        if (text.startsWith(value.slice(-k))) return `[redacted ${byValue.get(value)}]${text.slice(k)}`
      }
    }
    return text
  }
  return (text) => {
    let out = cutTail(text)
    for (const value of values) if (out.includes(value)) out = out.split(value).join(`[redacted ${byValue.get(value)}]`)
    return maskUrls(out)
  }
}

/**
 * A URL's user information: from `scheme://` to the last `@` before the next blank or quote, so a
 * password holding `/`, `:` or `@` is masked whole.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>`]*)@/gi

/**
 * Every URL in `text` with its credentials masked: `postgres://moor:***@db/moor`; a user alone is
 * taken for a token (`https://***@github.com/...`), except ssh's (`ssh://deploy@host`: keys, not
 * users, are its secrets). Text without `://` is returned as it is.
 */
export const maskUrls = (text: string): string =>
  text.includes("://")
    ? text.replace(USERINFO, (all, scheme: string, info: string) => {
        const colon = info.indexOf(":")
        if (colon !== -1) return `${scheme}${info.slice(0, colon)}:***@`
        return /^ssh:/i.test(scheme) && !info.includes("@") ? all : `${scheme}***@`
      })
    : text
