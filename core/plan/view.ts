/** Indexes over one known host's observation, restricted to containers that carry this scope's label. */
import { imageKey, Label } from "../names.ts"
import type { KnownHost, ObservedContainer, ObservedNetwork, ObservedVolume } from "../model/observed.ts"

export interface HostView {
  readonly host: string
  /** What the engine reports of itself (../engine-features.ts checks keys against the API version). */
  readonly engineVersion: string | undefined
  readonly apiVersion: string | undefined
  /** `app/service` -> this scope's containers for it. */
  readonly byService: ReadonlyMap<string, ReadonlyArray<ObservedContainer>>
  /** Apps that have containers of this scope on the host. */
  readonly apps: ReadonlySet<string>
  readonly containers: ReadonlyArray<ObservedContainer>
  /** Names held by containers that are not this scope's (when the observation includes them). */
  readonly foreignNames: ReadonlySet<string>
  /** The id of the image a spec names (`imageKey`: with or without docker.io/, by tag or digest), when the host has it. */
  readonly imageId: (ref: string) => string | undefined
  readonly volumes: ReadonlyMap<string, ObservedVolume>
  readonly networks: ReadonlyMap<string, ObservedNetwork>
}

export const serviceKey = (app: string, service: string): string => `${app}/${service}`

export const makeHostView = (known: KnownHost, scope: string): HostView => {
  const byService = new Map<string, Array<ObservedContainer>>()
  const apps = new Set<string>()
  const containers: Array<ObservedContainer> = []
  const foreignNames = new Set<string>()
  for (const c of known.containers) {
    if (c.labels[Label.scope] !== scope) {
      foreignNames.add(c.name)
      continue
    }
    const app = c.labels[Label.app]
    const service = c.labels[Label.service]
    if (app === undefined || service === undefined) continue
    containers.push(c)
    apps.add(app)
    const key = serviceKey(app, service)
    const list = byService.get(key)
    if (list === undefined) byService.set(key, [c])
    else list.push(c)
  }
  for (const name of known.otherNames ?? []) foreignNames.add(name)
  for (const list of byService.values()) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const imageIdByKey = new Map<string, string>()
  for (const image of known.images)
    for (const ref of [...image.tags, ...(image.digests ?? [])]) imageIdByKey.set(imageKey(ref), image.id)
  return {
    host: known.host,
    engineVersion: known.engineVersion,
    apiVersion: known.apiVersion,
    byService,
    apps,
    containers: containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    foreignNames,
    imageId: (ref) => imageIdByKey.get(imageKey(ref)),
    volumes: new Map(known.volumes.map((v) => [v.name, v])),
    networks: new Map(known.networks.map((n) => [n.name, n]))
  }
}
