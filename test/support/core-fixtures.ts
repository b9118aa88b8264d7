/** Builders for desired states and observations in core tests. */
import { Result } from "effect"
import { decodeDesired } from "../../core/decode.ts"
import type { App, DesiredState, Service } from "../../core/model/desired.ts"
import type { Observed, ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import type { Plan } from "../../core/model/plan.ts"
import { makePolicy, type Policy } from "../../core/model/policy.ts"
import { plan } from "../../core/plan/plan.ts"
import { applyPlan, emptyHost, type EngineOptions } from "./reference-engine.ts"

export const T0 = 1_800_000_000_000

export const svc = (image = "moor-fixture/app:1", extra: Partial<Service> = {}): Service => ({ image, ...extra })

export const app = (name: string, services: Record<string, Service>, extra: Partial<App> = {}): App => ({
  name,
  services,
  ...extra
})

export const desired = (
  apps: ReadonlyArray<unknown>,
  extra: { scope?: string; hosts?: ReadonlyArray<{ name: string }> } = {}
): DesiredState => {
  const result = decodeDesired({ scope: extra.scope ?? "test", ...(extra.hosts ? { hosts: extra.hosts } : {}), apps })
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

export const observedOf = (
  hosts: ReadonlyArray<ObservedHost>,
  now = T0,
  restarts: Observed["restarts"] = []
): Observed => ({
  now,
  hosts,
  restarts
})

export const policy = (overrides: Partial<Policy> = {}): Policy => makePolicy(overrides)

/** Plans on an empty host, applies on the reference engine: the converged observation. */
export const deployed = (
  d: DesiredState,
  options: EngineOptions & { hosts?: ReadonlyArray<string>; images?: ReadonlyArray<string>; policy?: Policy } = {}
): Observed => {
  const hosts = (options.hosts ?? ["local"]).map((h) => emptyHost(h, options.images ?? []))
  let obs = observedOf(hosts)
  for (let i = 0; i < 5; i++) {
    const p = plan(d, obs, options.policy ?? policy())
    if (p.actions.every((a) => a._tag === "skip" || a._tag.startsWith("wait"))) return obs
    obs = applyPlan(obs, p, options)
  }
  return obs
}

/** Changes one container (by name) on every known host. */
export const mutate = (
  obs: Observed,
  name: string,
  f: (c: ObservedContainer) => ObservedContainer | undefined
): Observed => ({
  ...obs,
  hosts: obs.hosts.map((h) =>
    h._tag === "Known"
      ? {
          ...h,
          containers: h.containers.flatMap((c) => (c.name === name ? [f(c)].filter((x) => x !== undefined) : [c]))
        }
      : h
  )
})

export const kinds = (p: Plan): Array<string> => p.actions.map((a) => `${a._tag} ${a.id}`)
export const changing = (p: Plan) => p.actions.filter((a) => a._tag !== "skip" && !a._tag.startsWith("wait"))
