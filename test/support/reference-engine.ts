/**
 * A small reference model of a Docker engine, for core tests: it applies a plan's actions to an
 * observed snapshot, in order, the way the executor would on a well-behaved engine. Images listed
 * in `jobs` run to completion at once (exit 0); everything else runs, healthy at once when it has
 * a health check.
 */
import { hash128 } from "../../core/hash.ts"
import type { KnownHost, Observed, ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import type { Action, ContainerConfig, ContainerRef, Plan, Step } from "../../core/model/plan.ts"

export interface EngineOptions {
  /** Images whose containers exit 0 right after they start. */
  readonly jobs?: ReadonlySet<string>
  /** Action ids that fail (nothing they would do happens). */
  readonly failing?: ReadonlySet<string>
}

type MutableHost = {
  host: string
  containers: Array<ObservedContainer>
  volumes: KnownHost["volumes"][number][]
  networks: KnownHost["networks"][number][]
  images: KnownHost["images"][number][]
}

/** Like the engine's 409: a name is held by another container. */
class Conflict extends Error {}

export const imageIdOf = (image: string): string => `sha256:${hash128(image)}${hash128(`${image}!`)}`

export const emptyHost = (host: string, images: ReadonlyArray<string> = []): KnownHost => ({
  _tag: "Known",
  host,
  containers: [],
  volumes: [],
  networks: [],
  images: images.map((tag) => ({ id: imageIdOf(tag), tags: [tag] }))
})

const find = (h: MutableHost, ref: ContainerRef) =>
  h.containers.find((c) => (ref.id !== undefined ? c.id === ref.id : c.name === ref.name)) ??
  h.containers.find((c) => c.name === ref.name)

const hasHealthcheck = (config: ContainerConfig) =>
  config.healthcheck !== undefined && config.healthcheck.test[0] !== "NONE"

export const applyPlan = (observed: Observed, plan: Plan, options: EngineOptions = {}): Observed => {
  const hosts = new Map<string, MutableHost | ObservedHost>()
  for (const h of observed.hosts) {
    hosts.set(
      h.host,
      h._tag === "Known"
        ? {
            host: h.host,
            containers: [...h.containers],
            volumes: [...h.volumes],
            networks: [...h.networks],
            images: [...h.images]
          }
        : h
    )
  }
  const configs = new Map<string, ContainerConfig>()
  let serial = 0
  const failed = new Set<string>()
  const step = (h: MutableHost, s: Step) => {
    switch (s._tag) {
      case "create": {
        if (h.containers.some((c) => c.name === s.container.name)) throw new Conflict(s.container.name)
        configs.set(`${h.host}/${s.container.name}`, s.container)
        const image = h.images.find((i) => i.tags.includes(s.container.image))
        h.containers.push({
          id: `c${++serial}-${hash128(`${h.host}/${s.container.name}/${observed.now}/${serial}`).slice(0, 12)}`,
          name: s.container.name,
          labels: s.container.labels,
          state: "created",
          health: "none",
          image: s.container.image,
          imageId: image?.id ?? "",
          createdAt: observed.now
        })
        return
      }
      case "start": {
        const c = find(h, s.container)
        if (c === undefined) return
        const config = configs.get(`${h.host}/${c.name}`)
        const job = options.jobs?.has(c.image) === true
        const next: ObservedContainer = job
          ? { ...c, state: "exited", exitCode: 0, health: "none", startedAt: observed.now, finishedAt: observed.now }
          : {
              ...c,
              state: "running",
              health:
                config !== undefined && hasHealthcheck(config) ? "healthy" : c.health === "none" ? "none" : "healthy",
              startedAt: observed.now
            }
        h.containers[h.containers.indexOf(c)] = next
        return
      }
      case "stop": {
        const c = find(h, s.container)
        if (c !== undefined && c.state !== "exited")
          h.containers[h.containers.indexOf(c)] = { ...c, state: "exited", exitCode: 0 }
        return
      }
      case "remove": {
        const c = find(h, s.container)
        if (c !== undefined) h.containers.splice(h.containers.indexOf(c), 1)
        return
      }
      case "rename": {
        const c = find(h, s.container)
        if (c === undefined) return
        if (h.containers.some((x) => x.name === s.to)) throw new Conflict(s.to)
        const config = configs.get(`${h.host}/${c.name}`)
        if (config !== undefined) configs.set(`${h.host}/${s.to}`, config)
        h.containers[h.containers.indexOf(c)] = { ...c, name: s.to }
        return
      }
      case "wait-healthy":
        return
    }
  }
  const act = (h: MutableHost, a: Action) => {
    switch (a._tag) {
      case "ensure-network":
        h.networks.push({ name: a.network.name, id: `n-${a.network.name}`, labels: a.network.labels })
        return
      case "ensure-volume":
        h.volumes.push({ name: a.volume.name, labels: a.volume.labels })
        return
      case "pull-image":
        if (!h.images.some((i) => i.tags.includes(a.image))) h.images.push({ id: imageIdOf(a.image), tags: [a.image] })
        return
      case "create":
        return step(h, { _tag: "create", container: a.container })
      case "start":
        return step(h, { _tag: "start", container: a.container })
      case "stop":
        return step(h, { _tag: "stop", container: a.container })
      case "remove":
        return step(h, { _tag: "remove", container: a.container })
      case "recreate":
        for (const s of a.steps) step(h, s)
        return
      case "remove-network":
        h.networks = h.networks.filter((n) => n.name !== a.network)
        return
      case "remove-volume":
        h.volumes = h.volumes.filter((v) => v.name !== a.volume)
        return
      case "run-hook":
      case "wait-healthy":
      case "wait-completed":
      case "skip":
        return
    }
  }
  for (const a of plan.actions) {
    if (options.failing?.has(a.id) === true || a.waitsFor.some((w) => failed.has(w))) {
      failed.add(a.id)
      continue
    }
    const h = hosts.get(a.host)
    if (h === undefined || !("containers" in h) || "reason" in h) continue
    try {
      act(h as MutableHost, a)
    } catch (e) {
      if (!(e instanceof Conflict)) throw e
      failed.add(a.id)
    }
  }
  return {
    ...observed,
    hosts: observed.hosts.map((orig) => {
      const h = hosts.get(orig.host)!
      return "reason" in h ? h : ({ _tag: "Known", ...(h as MutableHost) } as KnownHost)
    })
  }
}
