/**
 * The fleet benchmark: the same 20 services (10 apps of 2 services on moor-fixture/app:1) converged
 * from nothing on one host (engine A over its socket) and spread over two hosts (5 apps on A, 5 on
 * engine B over TCP with mutual TLS), and the quiet pass over the two hosts once they are converged.
 * `reconcilePass` on the live Docker layer, PostgreSQL as the repository (the fleet's shared one, at
 * MOOR_TEST_PG_URL, in a schema of its own), the memory bus; the pass returns once everything is
 * created and started (settleMs 0, like `docker compose up -d`); the services have no health check.
 * Engines are cleaned (by this run's scope label) before every converge; medians of RUNS runs, the
 * 1-host and 2-host runs interleaved so that a change of load hits both alike.
 *
 *   fleet_converge_1host_ms    20 services on A
 *   fleet_converge_2hosts_ms   10 on A + 10 on B, one pass
 *   fleet_quiet_pass_ms        a pass over A and B with nothing to do
 *   fleet_quiet_pass_1host_ms  the same on A alone (for comparison)
 *   fleet_2hosts_vs_1host      fleet_converge_2hosts_ms / fleet_converge_1host_ms
 *
 * Env: MOOR_BENCH_FLEET_RUNS (3), MOOR_BENCH_FLEET_CONCURRENCY (engine calls in flight, over all hosts;
 * default the executor's 8).
 */
import { randomBytes } from "node:crypto"
import { loadavg } from "node:os"
import { Effect, Layer, ManagedRuntime, Result } from "effect"
import { Bus } from "../adapters/bus/Bus.ts"
import { DockerLive } from "../adapters/docker/live.ts"
import type { EngineConfig } from "../adapters/docker/endpoint.ts"
import { Repo } from "../adapters/repo/Repo.ts"
import { hasChanges } from "../core/describe.ts"
import { decodeDesired } from "../core/decode.ts"
import type { DesiredState } from "../core/model/desired.ts"
import { makePolicy } from "../core/model/policy.ts"
import { type PassResult, reconcilePass } from "../runners/pass/pass.ts"
import { requireServers } from "../test/support/env.ts"
import { cleanupEngine, engineA, engineBRaw, engineBTls } from "../test/support/fleet-engines.ts"
import { dropTestSchemas, requirePg, uniqueSchema, urlWithSchema } from "../test/support/repo/pg.ts"
import { median } from "./stats.ts"

const RUNS = Number(process.env.MOOR_BENCH_FLEET_RUNS ?? "3")
/** Engine calls in flight at once, over all hosts (the executor's default, 8, when unset). */
const CONCURRENCY = process.env.MOOR_BENCH_FLEET_CONCURRENCY

const QUIET_PASSES = 3
const APPS = 10
const SERVICES_PER_APP = 2

const tok = randomBytes(3).toString("hex")
const scope = `bench-fleet-${tok}`
const cert = (f: string) => `${engineBTls.certPath}/${f}`
const engines: ReadonlyArray<EngineConfig> = [
  { name: "a", endpoint: "unix:///var/run/docker.sock" },
  {
    name: "b",
    endpoint: engineBTls.endpoint,
    tls: { ca: cert("ca.pem"), cert: cert("cert.pem"), key: cert("key.pem") }
  }
]

/** 10 apps of 2 services; `hostOf(i)` places app i. */
const workload = (hostOf: (i: number) => string): DesiredState => {
  const apps = Array.from({ length: APPS }, (_, i) => ({
    name: `fb${tok}app${i}`,
    hosts: [hostOf(i)],
    services: Object.fromEntries(
      Array.from({ length: SERVICES_PER_APP }, (_, j) => [
        `svc${j}`,
        {
          image: "moor-fixture/app:1",
          environment: { APP: `app${i}`, SERVICE: `svc${j}` },
          // The image's 1 s health check times out on a loaded machine and turns containers
          // unhealthy, which turns a quiet pass into a healing one: what is measured here is the
          // fan-out over hosts, so readiness is "running" (the pass does not wait for health anyway).
          healthcheck: { disable: true }
        }
      ])
    )
  }))
  const decoded = decodeDesired({ scope, hosts: [{ name: "a" }, { name: "b" }], apps })
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return decoded.success
}

const oneHost = workload(() => "a")
const twoHosts = workload((i) => (i < APPS / 2 ? "a" : "b"))

const cleanup = async () => {
  await cleanupEngine(engineA, scope)
  await cleanupEngine(engineBRaw, scope)
}

export const run = async (): Promise<Array<readonly [string, number]>> => {
  await requireServers("engine-b", "engine-b-tls")
  await requirePg()
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(DockerLive.layer(engines), Repo.layerFromUrl(urlWithSchema(uniqueSchema())), Bus.layerMemory)
  )
  let n = 0
  const pass = async (desired: DesiredState, hosts: ReadonlyArray<string>): Promise<number> => {
    const t0 = performance.now()
    const result: PassResult = await runtime.runPromise(
      reconcilePass({
        id: `bench-fleet-${tok}-${n++}`,
        trigger: "cli",
        desired,
        policy: makePolicy(),
        hosts,
        holder: `bench-fleet-${tok}`,
        lease: { ttlMs: 60_000, waitMs: 0 },
        settleMs: 0,
        ...(CONCURRENCY === undefined ? {} : { execute: { concurrency: Number(CONCURRENCY) } })
      })
    )
    const ms = performance.now() - t0
    const failed = result.results.filter((r) => r.outcome !== "done")
    if (failed.length > 0 || result.runs.some((r) => r.status !== "succeeded") || hasChanges(result.finalPlan))
      throw new Error(
        `the pass did not converge: ${failed.map((r) => `${r.action.id}: ${r.error ?? r.outcome}`).join("; ")} ${result.runs.map((r) => r.error ?? "").join("; ")} ${JSON.stringify(result.finalPlan.apps.filter((a) => a.state !== "running"))}`
      )
    return ms
  }
  const converge1: Array<number> = []
  const converge2: Array<number> = []
  const quiet2: Array<number> = []
  const quiet1: Array<number> = []
  try {
    await runtime.runPromise(Effect.void)
    await cleanup()
    // A first pass warms the connections (TLS handshakes, repo migrations); it is not counted.
    await pass(twoHosts, ["a", "b"])
    for (let r = 0; r < RUNS; r++) {
      await cleanup()
      converge1.push(await pass(oneHost, ["a"]))
      for (let q = 0; q < QUIET_PASSES; q++) quiet1.push(await pass(oneHost, ["a"]))
      await cleanup()
      converge2.push(await pass(twoHosts, ["a", "b"]))
      for (let q = 0; q < QUIET_PASSES; q++) quiet2.push(await pass(twoHosts, ["a", "b"]))
    }
  } finally {
    await cleanup()
    await runtime.dispose()
    await dropTestSchemas()
  }
  // The raw runs and the machine's load, for the record (stderr: the bench's output stays name value).
  const raw = (xs: ReadonlyArray<number>) => xs.map((x) => Math.round(x)).join(" ")
  console.error(
    `fleet: converge 1 host [${raw(converge1)}] ms, 2 hosts [${raw(converge2)}] ms, quiet 2 hosts [${raw(quiet2)}] ms, ` +
      `quiet 1 host [${raw(quiet1)}] ms; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`
  )
  const c1 = median(converge1)
  const c2 = median(converge2)
  return [
    ["fleet_converge_1host_ms", Math.round(c1)],
    ["fleet_converge_2hosts_ms", Math.round(c2)],
    ["fleet_quiet_pass_ms", Math.round(median(quiet2))],
    ["fleet_quiet_pass_1host_ms", Math.round(median(quiet1))],
    ["fleet_2hosts_vs_1host", c2 / c1]
  ]
}
