/** Per app, once for all its hosts: each service's container config, spec hash, order and kind. */
import { containerConfig, type HashAlgorithms, type HashInput } from "../container-spec.ts"
import { hash128 } from "../hash.ts"
import type { App, Service } from "../model/desired.ts"
import type { ContainerConfig } from "../model/plan.ts"
import type { Policy } from "../model/policy.ts"

export interface PreparedService {
  readonly name: string
  readonly service: Service
  readonly config: ContainerConfig
  readonly hashInput: HashInput
  readonly specHash: string
  /** A job that runs to completion (`restart: "no"`, or awaited with service_completed_successfully). */
  readonly oneShot: boolean
  readonly timeoutMs: number
}

export interface PreparedApp {
  readonly app: App
  /** Services in `depends_on` order, alphabetical among equals. */
  readonly services: ReadonlyArray<PreparedService>
  readonly byName: ReadonlyMap<string, PreparedService>
  readonly specHash: string
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

export const prepareApp = (app: App, policy: Policy, hashAlgorithms: HashAlgorithms): PreparedApp => {
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
    return {
      name,
      service,
      config,
      hashInput,
      specHash: algorithm(hashInput),
      oneShot: service.restart === "no" || awaited.has(name),
      timeoutMs: service.healthTimeoutMs ?? policy.healthTimeoutMs
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
