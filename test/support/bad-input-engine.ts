/**
 * What the engine holds for one scope (containers, networks, volumes carrying `moor.scope=<scope>`),
 * to prove a bad spec changed nothing, or created only its valid apps; and clean-up by scope prefix.
 */
import { cleanupScope, raw } from "./docker-e2e.ts"

export interface EngineObject {
  readonly kind: "container" | "network" | "volume"
  readonly name: string
  /** The `moor.app` label: which app it belongs to. */
  readonly app: string
}

export const snapshotScope = async (scope: string): Promise<ReadonlyArray<EngineObject>> => {
  const label = [`moor.scope=${scope}`]
  const [containers, networks, volumes] = await Promise.all([
    raw.listContainers({ all: true, filters: { label } }),
    raw.listNetworks({ filters: { label } }),
    raw.listVolumes({ filters: { label } })
  ])
  return [
    ...containers.map((c) => ({
      kind: "container" as const,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      app: c.Labels["moor.app"] ?? ""
    })),
    ...networks.map((n) => ({ kind: "network" as const, name: n.Name, app: n.Labels?.["moor.app"] ?? "" })),
    ...(volumes.Volumes ?? []).map((v) => ({
      kind: "volume" as const,
      name: v.Name,
      app: v.Labels?.["moor.app"] ?? ""
    }))
  ].sort((a, b) => `${a.kind} ${a.name}`.localeCompare(`${b.kind} ${b.name}`))
}

/** Every scope on the engine starting with `prefix` (a run's own scopes), cleaned up. */
export const cleanupScopesStartingWith = async (prefix: string): Promise<void> => {
  const containers = await raw.listContainers({ all: true, filters: { label: ["moor.scope"] } })
  const networks = await raw.listNetworks({ filters: { label: ["moor.scope"] } })
  const volumes = await raw.listVolumes({ filters: { label: ["moor.scope"] } })
  const scopes = new Set(
    [
      ...containers.map((c) => c.Labels["moor.scope"]),
      ...networks.map((n) => n.Labels?.["moor.scope"]),
      ...(volumes.Volumes ?? []).map((v) => v.Labels?.["moor.scope"])
    ].filter((s): s is string => s !== undefined && s.startsWith(prefix))
  )
  for (const scope of scopes) await cleanupScope(scope)
}
