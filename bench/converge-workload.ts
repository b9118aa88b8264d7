/**
 * The converge benchmark's workload: 3 apps of 10 services of the fixture image, as moor's desired
 * state, as the containers moor's planner would create (for the bare loop), and as one equivalent
 * Compose file (for docker-compose). Every container and network of every side carries the
 * benchmark's label (`moor-bench.converge=<token>`), and goes away by it.
 */
import { randomBytes } from "node:crypto"
import Dockerode from "dockerode"
import { Result } from "effect"
import { stringify } from "yaml"
import { decodeDesired } from "../core/decode.ts"
import type { DesiredState } from "../core/model/desired.ts"
import type { NetworkSpec } from "../adapters/docker/Docker.ts"
import type { ContainerConfig } from "../core/model/plan.ts"
import { makePolicy } from "../core/model/policy.ts"
import { plan } from "../core/plan/plan.ts"

export const IMAGE = "moor-fixture/app:1"
export const APPS = 3
export const SERVICES_PER_APP = 10
/** The label every container and network of the benchmark carries, whichever side made it. */
export const BENCH_LABEL = "moor-bench.converge"

export const docker = new Dockerode({ socketPath: "/var/run/docker.sock" })

/** One benchmark: its token (the bench label's value, in every name), shared by all its runs. */
export interface Bench {
  readonly token: string
  /** Networks the engine would not remove (see `cleanup`): left alone from then on. */
  readonly stuck: Set<string>
}

export const newBench = (): Bench => {
  const token = randomBytes(3).toString("hex")
  return { token, stuck: new Set() }
}

/**
 * One run's workload: a scope and names of its own (`cv<token>r<run>-a<i>`), so that no run meets
 * another's leftovers (moor would prune them as orphans of its scope).
 */
export interface Workload {
  readonly token: string
  readonly scope: string
  readonly desired: DesiredState
  /** What moor's first plan creates, in plan order: the networks, then the containers. */
  readonly networks: ReadonlyArray<NetworkSpec>
  readonly containers: ReadonlyArray<ContainerConfig>
  /** The Compose project name and file text. */
  readonly project: string
  readonly composeYaml: string
}

export const makeWorkload = (bench: Bench, run: number): Workload => {
  const { token } = bench
  const prefix = `cv${token}r${run}`
  const scope = `bench-converge-${token}-r${run}`
  const appNames = Array.from({ length: APPS }, (_, i) => `${prefix}-a${i}`)
  const labels = { [BENCH_LABEL]: token }
  const services = Object.fromEntries(
    Array.from({ length: SERVICES_PER_APP }, (_, j) => [
      `s${j}`,
      { image: IMAGE, environment: { SERVICE: `s${j}` }, labels }
    ])
  )
  const apps = appNames.map((name) => ({
    name,
    services: Object.fromEntries(
      Object.entries(services).map(([k, v]) => [k, { ...v, environment: { APP: name, ...v.environment } }])
    ),
    networks: { default: { labels } }
  }))
  const decoded = decodeDesired({ scope, apps })
  if (Result.isFailure(decoded)) throw new Error(`the benchmark's spec does not decode: ${decoded.failure.message}`)
  const desired = decoded.success
  const first = plan(desired, { now: 0, hosts: [emptyHost()], restarts: [] }, makePolicy())
  const networks: Array<NetworkSpec> = []
  const containers: Array<ContainerConfig> = []
  for (const a of first.actions) {
    if (a._tag === "ensure-network") networks.push(a.network)
    else if (a._tag === "create") containers.push(a.container)
  }
  if (containers.length !== APPS * SERVICES_PER_APP)
    throw new Error(`the first plan creates ${containers.length} containers, not ${APPS * SERVICES_PER_APP}`)
  return { token, scope, desired, networks, containers, project: prefix, composeYaml: composeFile(appNames, token) }
}

const emptyHost = () =>
  ({
    _tag: "Known",
    host: "local",
    containers: [],
    volumes: [],
    networks: [],
    images: [{ id: "sha256:fixture", tags: [IMAGE] }]
  }) as const

/**
 * One Compose project with the same 30 containers: one network per app (moor gives each app its
 * own), each service on its app's network, same image and environment. The images are local:
 * `pull_policy: never` makes sure Compose does not try to reach a registry.
 */
const composeFile = (apps: ReadonlyArray<string>, token: string): string => {
  const labels = { [BENCH_LABEL]: token }
  const services: Record<string, unknown> = {}
  for (const app of apps) {
    for (let j = 0; j < SERVICES_PER_APP; j++) {
      services[`${app}-s${j}`] = {
        image: IMAGE,
        pull_policy: "never",
        environment: { APP: app, SERVICE: `s${j}` },
        labels,
        networks: { [app]: { aliases: [`s${j}`] } }
      }
    }
  }
  const networks = Object.fromEntries(apps.map((app) => [app, { labels }]))
  return stringify({ version: "2.4", services, networks }, { aliasDuplicateObjects: false })
}

/**
 * Removes every container and network of the benchmark (by the bench label) and checks that they
 * are gone. A loaded engine 20.10 sometimes keeps a network that has no
 * container left ("has active endpoints": a stale endpoint, until the daemon restarts): after a few
 * tries such a network is reported on stderr and left alone; the next run uses other names.
 */
export const cleanup = async (bench: Bench): Promise<void> => {
  const filters = { label: [`${BENCH_LABEL}=${bench.token}`] }
  for (let attempt = 1; ; attempt++) {
    const containers = await docker.listContainers({ all: true, filters })
    const networks = (await docker.listNetworks({ filters })).filter((n) => !bench.stuck.has(n.Name))
    if (containers.length === 0 && networks.length === 0) return
    if (attempt > 4) {
      if (containers.length > 0)
        throw new Error(
          `could not remove the benchmark's containers: ${containers.map((c) => c.Names.join(",")).join(" ")}`
        )
      for (const n of networks) bench.stuck.add(n.Name)
      console.error(
        `converge: the engine keeps network(s) ${networks.map((n) => n.Name).join(", ")} (stale endpoint); left alone`
      )
      return
    }
    if (attempt > 1) await new Promise((r) => setTimeout(r, 1000))
    await pool(containers, 8, (c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined)
    )
    await Promise.all(
      networks.map((n) =>
        docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined)
      )
    )
  }
}

/** Runs `f` on every item, at most `limit` at a time. */
export const pool = async <A>(items: ReadonlyArray<A>, limit: number, f: (a: A) => Promise<unknown>): Promise<void> => {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!
      await f(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** Waits until every container with `label` is running and healthy (so that a pass finds nothing to do). */
export const waitHealthy = async (label: string, count: number, timeoutMs = 60_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const list = await docker.listContainers({ all: true, filters: { label: [label] } })
    const healthy = list.filter((c) => c.State === "running" && c.Status.includes("(healthy)")).length
    if (healthy === count) return
    if (performance.now() > deadline)
      throw new Error(`only ${healthy} of ${count} containers labelled ${label} became healthy`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
