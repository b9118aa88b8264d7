/** Per app, once for all its hosts: each service's container config, spec hash, order and kind. */
import {
  compactConfig,
  containerConfig,
  fieldDigests,
  type HashAlgorithms,
  type HashInput,
  moorLabels
} from "../container-spec.ts"
import { hash128 } from "../hash.ts"
import { containerName, serviceContainerName } from "../names.ts"
import type { App, Rollout, Service } from "../model/desired.ts"
import type { ContainerConfig } from "../model/plan.ts"
import type { Policy } from "../model/policy.ts"

export interface PreparedService {
  readonly name: string
  /** `app/service`, the key of the host views. */
  readonly key: string
  readonly service: Service
  /** How many containers run it (`scale`, `deploy.replicas`), and their names, replica 1 first. */
  readonly replicas: number
  readonly names: ReadonlyArray<string>
  /** The names its replicas would have past `replicas`: scaled-down containers are found by these. */
  readonly isReplicaName: (name: string) => number | undefined
  /** The planner's policy with the service's own restart budget (`deploy.restart_policy`). */
  readonly policy: Policy
  /** How its containers are replaced (`deploy.update_config`). */
  readonly update: Rollout
  /** The config of replica 1 (the spec hash is the same for every replica). */
  readonly config: ContainerConfig
  readonly hashInput: HashInput
  readonly specHash: string
  /** A job that runs to completion (`restart: "no"`, or awaited with service_completed_successfully). */
  readonly oneShot: boolean
  readonly timeoutMs: number
  /** Per-field digests of the spec (computed once, when first needed). */
  readonly fields: () => Record<string, string>
  /** The config a create puts in the plan: without undefined keys, with moor's labels (kept per scope). */
  readonly labelled: (scope: string, replica?: number) => ContainerConfig
}

export interface PreparedApp {
  readonly app: App
  /** Services in `depends_on` order, alphabetical among equals. */
  readonly services: ReadonlyArray<PreparedService>
  readonly byName: ReadonlyMap<string, PreparedService>
  readonly specHash: string
}

const once = <A>(f: () => A): (() => A) => {
  let value: A | undefined
  return () => {
    if (value === undefined) value = f()
    return value
  }
}

/** The policy with the service's `deploy.restart_policy` budget, the same object when it has none. */
const servicePolicy = (policy: Policy, service: Service): Policy => {
  const b = service.restartBudget
  if (b === undefined) return policy
  return {
    ...policy,
    ...(b.maxAttempts === undefined || b.maxAttempts === 0 ? {} : { restartBudget: b.maxAttempts }),
    ...(b.windowMs === undefined || b.windowMs === 0 ? {} : { restartWindowMs: b.windowMs }),
    ...(b.delayMs === undefined ? {} : { restartBackoffMs: b.delayMs })
  }
}

/** `<app>-<service>-<n>` -> n, for a container of this service named the way moor names replicas. */
const replicaOf =
  (app: string, service: string) =>
  (name: string): number | undefined => {
    const prefix = `${app}-${service}-`
    if (!name.startsWith(prefix)) return undefined
    const n = name.slice(prefix.length)
    return /^[1-9][0-9]*$/.test(n) ? Number(n) : undefined
  }

const servicesInOrder = (app: App): Array<string> => {
  const out: Array<string> = []
  const seen = new Set<string>()
  const visit = (name: string) => {
    if (seen.has(name)) return
    seen.add(name)
    for (const dep of Object.keys(app.services[name]?.dependsOn ?? {}).sort())
      if (app.services[dep] !== undefined) visit(dep)
    out.push(name)
  }
  for (const name of Object.keys(app.services).sort()) visit(name)
  return out
}

/**
 * Preparing is the costly part of planning (a config and a hash per service), and a desired state is
 * planned many times over (each round of a pass, each tick of a watch loop while the spec is
 * unchanged): the result is kept per app object. Invisible from outside: same inputs, same result.
 */
const memo = new WeakMap<
  App,
  { readonly policy: Policy; readonly hashAlgorithms: HashAlgorithms; readonly prepared: PreparedApp }
>()

const samePolicy = (a: Policy, b: Policy): boolean =>
  a === b || (Object.keys(a) as Array<keyof Policy>).every((k) => a[k] === b[k])

export const prepareApp = (app: App, policy: Policy, hashAlgorithms: HashAlgorithms): PreparedApp => {
  const hit = memo.get(app)
  if (hit !== undefined && hit.hashAlgorithms === hashAlgorithms && samePolicy(hit.policy, policy)) {
    return hit.prepared
  }
  const prepared = prepareUncached(app, policy, hashAlgorithms)
  memo.set(app, { policy, hashAlgorithms, prepared })
  return prepared
}

const prepareUncached = (app: App, policy: Policy, hashAlgorithms: HashAlgorithms): PreparedApp => {
  const awaited = new Set<string>()
  for (const s of Object.values(app.services)) {
    for (const [dep, d] of Object.entries(s.dependsOn ?? {}))
      if (d.condition === "service_completed_successfully") awaited.add(dep)
  }
  const algorithm = hashAlgorithms.byVersion[hashAlgorithms.current]!
  const services = servicesInOrder(app).map((name): PreparedService => {
    const service = app.services[name]!
    const config = containerConfig(app, name, service)
    const hashInput: HashInput = { config, configDigests: service.configDigests ?? {} }
    const specHash = algorithm(hashInput)
    const fields = once(() => fieldDigests(hashInput))
    let labelledFor: { readonly scope: string; readonly config: ContainerConfig } | undefined
    const replicas = service.replicas ?? 1
    const names = Array.from({ length: replicas }, (_, i) => serviceContainerName(app, name, i + 1))
    return {
      name,
      key: `${app.name}/${name}`,
      service,
      replicas,
      names,
      isReplicaName:
        service.containerName === undefined
          ? replicaOf(app.name, name)
          : (n: string) => (n === service.containerName || n === containerName(app.name, name) ? 1 : undefined),
      policy: servicePolicy(policy, service),
      update: service.update ?? {},
      config,
      hashInput,
      specHash,
      oneShot: service.restart === "no" || awaited.has(name),
      timeoutMs: service.healthTimeoutMs ?? policy.healthTimeoutMs,
      fields,
      labelled: (scope: string, replica = 1) => {
        if (labelledFor?.scope !== scope) {
          const compact = compactConfig(config)
          labelledFor = {
            scope,
            config: {
              ...compact,
              labels: { ...compact.labels, ...moorLabels(scope, app.name, name, specHash, fields()) }
            }
          }
        }
        return replica === 1 ? labelledFor.config : { ...labelledFor.config, name: names[replica - 1] ?? "" }
      }
    }
  })
  const specHash = hash128(
    `${app.version ?? ""}|${services
      .map((s) => `${s.name}=${s.specHash}`)
      .sort()
      .join(",")}`
  )
  return { app, services, byName: new Map(services.map((s) => [s.name, s])), specHash }
}
