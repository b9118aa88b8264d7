/**
 * plan() on n services (apps of 10 services, one in ten requiring another app), observed as
 * deployed, with changes the way deploys bring them, by app: 90% of the apps unchanged, 5% with a
 * changed spec, 5% new (not deployed yet). Prints the median wall time of plan() called again and
 * again on that input (`plan_services_<n>_ms`: each round of a pass, each watch tick while the spec
 * is unchanged), and of the first plan of an input never planned before (`plan_services_<n>_cold_ms`:
 * every service's config built and hashed, as in a one-shot `moor plan`).
 */
import { Result } from "effect"
import { fieldDigests, defaultHashAlgorithms, moorLabels } from "../core/container-spec.ts"
import { decodeDesired } from "../core/decode.ts"
import type { DesiredState } from "../core/model/desired.ts"
import type { Observed, ObservedContainer } from "../core/model/observed.ts"
import { makePolicy } from "../core/model/policy.ts"
import { plan } from "../core/plan/plan.ts"
import { prepareApp } from "../core/plan/prepare.ts"
import { median } from "./stats.ts"

const SERVICES_PER_APP = 10
const policy = makePolicy()

export const workload = (n: number): { desired: DesiredState; observed: Observed } => {
  const apps = Array.from({ length: Math.ceil(n / SERVICES_PER_APP) }, (_, i) => ({
    name: `app${i}`,
    version: "1",
    ...(i % 10 === 9 ? { requires: [{ app: `app${i - 1}` }] } : {}),
    volumes: { data: {} },
    services: Object.fromEntries(
      Array.from({ length: SERVICES_PER_APP }, (_, j) => [
        `svc${j}`,
        {
          image: `moor-fixture/app:${1 + (j % 2)}`,
          environment: { APP: `app${i}`, SERVICE: `svc${j}`, LEVEL: "info" },
          ...(j === 0 ? { mounts: [{ type: "volume", source: "data", target: "/data" }] } : {}),
          ...(j === 1 ? { ports: [{ target: 8080 }] } : {}),
          ...(j > 1 ? { dependsOn: { svc0: { condition: "service_started" } } } : {}),
          labels: { team: "bench" }
        }
      ])
    )
  }))
  const decoded = decodeDesired({ scope: "bench", apps })
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  const desired = decoded.success
  const containers: Array<ObservedContainer> = []
  desired.apps.forEach((app, i) => {
    if (i % 20 === 0) return // a new app
    const changed = i % 20 === 10
    for (const s of prepareApp(app, policy, defaultHashAlgorithms).services) {
      containers.push({
        id: `c${containers.length}`,
        name: s.config.name,
        labels: {
          ...s.config.labels,
          ...moorLabels("bench", app.name, s.name, changed ? "0".repeat(32) : s.specHash, fieldDigests(s.hashInput))
        },
        state: "running",
        health: "healthy",
        image: s.config.image,
        imageId: `sha256:${s.config.image}`
      })
    }
  })
  const observed: Observed = {
    now: 1_800_000_000_000,
    hosts: [
      {
        _tag: "Known",
        host: "local",
        containers,
        volumes: desired.apps.map((a) => ({ name: `${a.name}_data`, labels: { "moor.scope": "bench" } })),
        networks: desired.apps.map((a) => ({
          name: `${a.name}_default`,
          id: a.name,
          labels: { "moor.scope": "bench" }
        })),
        images: [1, 2].map((v) => ({ id: `sha256:moor-fixture/app:${v}`, tags: [`moor-fixture/app:${v}`] }))
      }
    ],
    restarts: []
  }
  return { desired, observed }
}

/** A deep copy: input no earlier plan has seen. */
const fresh = <A>(a: A): A => structuredClone(a)

export const run = async (): Promise<Array<readonly [string, number]>> => {
  const out: Array<readonly [string, number]> = []
  for (const n of [1000, 10_000, 100_000]) {
    const { desired, observed } = workload(n)
    const repeats = n >= 100_000 ? 5 : 11
    const inputs = Array.from({ length: repeats + 2 }, () => fresh(desired))
    const cold: Array<number> = []
    let actions = 0
    for (const [i, d] of inputs.entries()) {
      const t0 = performance.now()
      actions = plan(d, observed, policy).actions.length
      if (i >= 2) cold.push(performance.now() - t0) // the first two warm up the JIT
    }
    const again: Array<number> = []
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now()
      plan(desired, observed, policy)
      again.push(performance.now() - t0)
    }
    const ms = median(again)
    out.push(
      [`plan_services_${n}_ms`, ms],
      [`plan_services_${n}_us_per_service`, (ms * 1000) / n],
      [`plan_services_${n}_cold_ms`, median(cold)],
      [`plan_services_${n}_actions`, actions]
    )
  }
  return out
}
