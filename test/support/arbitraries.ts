/**
 * fast-check generators: random desired states (apps, services, depends_on, requires with hooks,
 * volumes, ports, placement; now and then a cycle, a missing provider, a broken app) and random
 * observations of them (deployed from another random spec, then containers killed, paused, wedged,
 * removed, duplicated; foreign and other-scope containers; unreachable hosts).
 */
import fc from "fast-check"
import { Result } from "effect"
import { decodeDesired } from "../../core/decode.ts"
import type { DesiredState } from "../../core/model/desired.ts"
import type { Observed, ObservedContainer, ObservedHost } from "../../core/model/observed.ts"
import { makePolicy, type Policy } from "../../core/model/policy.ts"
import { deployed, T0 } from "./core-fixtures.ts"

export const SCOPE = "prop"
export const IMAGES = ["img:1", "img:2", "job:1"] as const
export const JOBS = new Set(["job:1"])
export const APP_NAMES = ["a", "b", "c", "d", "e", "f"]
const SERVICE_NAMES = ["s1", "s2", "s3", "s4"]
export const HOSTS = ["h1", "h2"]

const serviceArb = (earlier: ReadonlyArray<string>) =>
  fc.record(
    {
      image: fc.constantFrom(...IMAGES),
      environment: fc.dictionary(fc.constantFrom("A", "B", "C"), fc.constantFrom("1", "2")),
      restart: fc.constantFrom(undefined, "no", "always"),
      published: fc.option(fc.constantFrom(18080, 18081, 18082), { freq: 4 }),
      volume: fc.boolean(),
      healthcheck: fc.boolean(),
      deps: fc.subarray([...earlier]),
      condition: fc.constantFrom("service_started", "service_healthy", "service_completed_successfully")
    },
    { requiredKeys: [] }
  )

const appArb = (name: string, others: ReadonlyArray<string>) =>
  fc
    .record({
      serviceCount: fc.integer({ min: 1, max: 4 }),
      requires: fc.subarray([...others, "missing-app"], { maxLength: Math.min(2, others.length + 1) }),
      hook: fc.boolean(),
      hosts: fc.subarray(HOSTS, { minLength: 1 }),
      version: fc.constantFrom("1", "2"),
      broken: fc.integer({ min: 0, max: 19 })
    })
    .chain((shape) =>
      fc
        .tuple(...SERVICE_NAMES.slice(0, shape.serviceCount).map((_, i) => serviceArb(SERVICE_NAMES.slice(0, i))))
        .map((services) => {
          const raw: Record<string, unknown> = {}
          services.forEach((s, i) => {
            const svc: Record<string, unknown> = { image: s.image ?? "img:1" }
            if (s.environment !== undefined && Object.keys(s.environment).length > 0) svc.environment = s.environment
            // Jobs (images that exit 0 at once) are declared as such; a long-running service that keeps
            // exiting is restarted until its budget is spent, which is not convergence.
            if (s.image === "job:1") svc.restart = "no"
            else if (s.restart !== undefined) svc.restart = s.restart
            if (s.published !== undefined && s.published !== null)
              svc.ports = [{ target: 8080, published: s.published }]
            if (s.volume === true) svc.mounts = [{ type: "volume", source: "data", target: "/data" }]
            if (s.healthcheck === true) svc.healthcheck = { test: ["CMD", "true"] }
            if (s.deps !== undefined && s.deps.length > 0) {
              svc.dependsOn = Object.fromEntries(
                s.deps.map((d) => [d, { condition: s.condition ?? "service_started" }])
              )
            }
            raw[SERVICE_NAMES[i]!] = svc
          })
          if (shape.broken === 0) (raw.s1 as Record<string, unknown>).image = ""
          return {
            name,
            version: shape.version,
            hosts: shape.hosts,
            services: raw,
            volumes: { data: {} },
            requires: shape.requires.map((app) => ({
              app,
              ...(shape.hook ? { onStart: { script: "hook.sh", content: "true" } } : {})
            }))
          }
        })
    )

export const desiredArb: fc.Arbitrary<DesiredState> = fc
  .subarray(APP_NAMES, { minLength: 0, maxLength: 6 })
  .chain((names) =>
    fc.tuple(
      ...names.map((n) =>
        appArb(
          n,
          names.filter((x) => x !== n)
        )
      )
    )
  )
  .map((apps) => {
    const r = decodeDesired({ scope: SCOPE, hosts: HOSTS.map((name) => ({ name })), apps })
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    return r.success
  })

type Mutation = "kill" | "stop" | "pause" | "wedge" | "loop" | "sick" | "remove" | "removing" | "starting" | "keep"

const mutateContainer = (c: ObservedContainer, m: Mutation): Array<ObservedContainer> => {
  switch (m) {
    case "kill":
      return [{ ...c, state: "exited", exitCode: 137, health: "none" }]
    case "stop":
      return [{ ...c, state: "exited", exitCode: 0, health: "none" }]
    case "pause":
      return [{ ...c, state: "paused" }]
    case "wedge":
      return [{ ...c, state: "created", health: "none" }]
    case "loop":
      return [{ ...c, state: "restarting", restartCount: 9 }]
    case "sick":
      return c.state === "running" ? [{ ...c, health: "unhealthy", unhealthySince: T0 - 3_600_000 }] : [c]
    case "remove":
      return []
    case "removing":
      return [{ ...c, state: "removing" }]
    case "starting":
      return c.state === "running" ? [{ ...c, health: "starting" }] : [c]
    case "keep":
      return [c]
  }
}

const foreign = (host: string, i: number, name: string): ObservedContainer => ({
  id: `foreign-${host}-${i}`,
  name,
  labels: i % 2 === 0 ? {} : { "moor.scope": "someone-else", "moor.app": "a", "moor.service": "s1" },
  state: "running",
  health: "none",
  image: "img:1",
  imageId: ""
})

export const observedArb = (d: DesiredState): fc.Arbitrary<Observed> =>
  fc
    .record({
      previous: desiredArb,
      usePrevious: fc.boolean(),
      mutations: fc.array(
        fc.constantFrom<Mutation>(
          "kill",
          "stop",
          "pause",
          "wedge",
          "loop",
          "sick",
          "remove",
          "removing",
          "starting",
          "keep"
        ),
        { maxLength: 40 }
      ),
      foreignNames: fc.array(fc.constantFrom("a-s1-1", "b-s2-1", "a-s1-1-next", "x-y-1"), { maxLength: 3 }),
      unreachable: fc.subarray(HOSTS, { maxLength: 1 }),
      leftover: fc.boolean(),
      restarts: fc.array(
        fc.record({
          app: fc.constantFrom(...APP_NAMES),
          service: fc.constantFrom(...SERVICE_NAMES),
          ago: fc.integer({ min: 0, max: 400_000 })
        }),
        { maxLength: 8 }
      )
    })
    .map((r) => {
      const base = deployed(r.usePrevious ? r.previous : d, { hosts: HOSTS, images: ["img:1"], jobs: JOBS })
      let k = 0
      const hosts: Array<ObservedHost> = base.hosts.map((h) => {
        if (h._tag !== "Known") return h
        if (r.unreachable.includes(h.host)) return { _tag: "Unreachable", host: h.host, reason: "connection refused" }
        const containers = h.containers.flatMap((c) =>
          mutateContainer(c, r.mutations[k++ % Math.max(1, r.mutations.length)] ?? "keep")
        )
        const first = containers[0]
        if (r.leftover && first !== undefined)
          containers.push({ ...first, id: `${first.id}-next`, name: `${first.name}-next` })
        // Names are unique on an engine: a foreign container can only hold a name nobody else has.
        r.foreignNames.forEach((name, i) => {
          if (!containers.some((c) => c.name === name)) containers.push(foreign(h.host, i, name))
        })
        return { ...h, containers }
      })
      return {
        now: T0,
        hosts,
        restarts: r.restarts.map((x) => ({
          host: "h1",
          app: x.app,
          service: x.service,
          at: T0 - x.ago,
          specHash: "any"
        }))
      }
    })

export const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    prune: fc.boolean(),
    removeVolumes: fc.boolean(),
    pull: fc.constantFrom("missing" as const, "always" as const)
  })
  .map((p) => makePolicy(p))

export const numRuns = (fallback: number): number => Number(process.env.MOOR_PROPERTY_RUNS ?? fallback)
