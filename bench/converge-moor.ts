/**
 * moor's side of the converge benchmark: `reconcilePass` on the live Docker layer, the SQLite repo
 * (the CLI's default: a file), the memory bus. A tracer records the pass's spans, so that each
 * timed pass also says where its time went: observe, execute, repo, bus, and the rest (planning).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Exit, Layer, ManagedRuntime, Tracer } from "effect"
import { Bus } from "../adapters/bus/Bus.ts"
import type { Docker } from "../adapters/docker/Docker.ts"
import { DockerLive } from "../adapters/docker/live.ts"
import { Repo } from "../adapters/repo/Repo.ts"
import { hasChanges } from "../core/describe.ts"
import { makePolicy } from "../core/model/policy.ts"
import { type PassResult, reconcilePass } from "../runners/pass/pass.ts"
import type { Bench, Workload } from "./converge-workload.ts"

/** Milliseconds per span name, summed over one pass. */
export type Phases = Map<string, number>

const recordingTracer = (phases: Phases): Tracer.Tracer =>
  Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      const end = span.end.bind(span)
      span.end = (endTime: bigint, exit: Exit.Exit<unknown, unknown>) => {
        const ms = Number(endTime - options.startTime) / 1e6
        phases.set(options.name, (phases.get(options.name) ?? 0) + ms)
        end(endTime, exit)
      }
      return span
    }
  })

export interface PassTiming {
  readonly ms: number
  readonly result: PassResult
  readonly phases: Phases
}

export interface PassOptions {
  /** Default: the real socket. */
  readonly endpoint?: string
  /** Engine calls at a time (the executor's default: 8). */
  readonly concurrency?: number
}

export interface MoorSide {
  /** One pass of `w`'s desired state; fails unless it converges with every action done. */
  readonly pass: (w: Workload, options?: PassOptions) => Promise<PassTiming>
  readonly dispose: () => Promise<void>
}

export const moorSide = (bench: Bench): MoorSide => {
  const dir = mkdtempSync(join(tmpdir(), "moor-bench-converge-"))
  const repoAndBus = Layer.mergeAll(Repo.layerSqlite(join(dir, "state.db")), Bus.layerMemory)
  const runtimes = new Map<string, ManagedRuntime.ManagedRuntime<Docker | Repo | Bus, unknown>>()
  const runtimeFor = (endpoint: string) => {
    let rt = runtimes.get(endpoint)
    if (rt === undefined) {
      rt = ManagedRuntime.make(Layer.mergeAll(DockerLive.layer([{ name: "local", endpoint }]), repoAndBus))
      runtimes.set(endpoint, rt)
    }
    return rt
  }
  let n = 0
  const pass = async (w: Workload, options: PassOptions = {}) => {
    const rt = runtimeFor(options.endpoint ?? "unix:///var/run/docker.sock")
    const phases: Phases = new Map()
    const input = {
      id: `bench-${bench.token}-${n++}`,
      trigger: "cli" as const,
      desired: w.desired,
      policy: makePolicy(),
      hosts: w.desired.hosts.map((h) => h.name),
      holder: `bench-converge-${bench.token}`,
      lease: { ttlMs: 60_000, waitMs: 0 },
      // Like `docker-compose up -d`: the pass returns once everything is created and started,
      // without waiting for health checks (the CLI's `apply` waits, with settleMs 60 s).
      settleMs: 0,
      ...(options.concurrency === undefined ? {} : { execute: { concurrency: options.concurrency } })
    }
    const t0 = performance.now()
    const result = await rt.runPromise(Effect.withTracer(reconcilePass(input), recordingTracer(phases)))
    const ms = performance.now() - t0
    const failed = result.results.filter((r) => r.outcome !== "done")
    if (failed.length > 0 || result.runs.some((r) => r.status !== "succeeded") || hasChanges(result.finalPlan))
      throw new Error(
        `moor's pass did not converge: ${failed.map((r) => `${r.action.id}: ${r.error ?? r.outcome}`).join("; ")} ${result.runs.map((r) => r.error ?? "").join("; ")}`
      )
    return { ms, result, phases } satisfies PassTiming
  }
  const dispose = async () => {
    for (const rt of runtimes.values()) await rt.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
  return { pass, dispose }
}
