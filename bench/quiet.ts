/**
 * `npm run bench -- quiet`: what moor's pass costs the engine when there is nothing to do, and when
 * there is a little (the converge benchmark's 30 services, deployed once and healthy). Every pass
 * goes through the counting proxy (test/support/docker-counting-proxy.ts), which records each API
 * call on the wire; a write is any call but GET and HEAD.
 *
 *   quiet_pass_api_calls, quiet_pass_write_calls   calls of one pass with nothing to do (the same
 *                                                  in every one of PASSES passes, or it fails)
 *   quiet_pass_lock_calls                          of those, calls on the engine lock (its container
 *                                                  `moor-lock-<scope>`: create, inspect, remove)
 *   quiet_pass_ms                                  its time, median of PASSES
 *   heal_pass_api_calls, heal_pass_write_calls     a pass that starts one killed container again
 *   heal_pass_lock_write_calls                     of those writes, the engine lock's: its create and
 *                                                  its removal (the other write is the start)
 */
import { type CountingProxy, startCountingProxy } from "../test/support/docker-counting-proxy.ts"
import { moorSide } from "./converge-moor.ts"
import {
  APPS,
  BENCH_LABEL,
  cleanup,
  docker,
  makeWorkload,
  newBench,
  SERVICES_PER_APP,
  waitHealthy
} from "./converge-workload.ts"
import { median } from "./stats.ts"

const PASSES = 10
const N = APPS * SERVICES_PER_APP

/** A call with its container id left out, to compare passes. */
const withoutIds = (request: string): string => request.replace(/[0-9a-f]{64}/g, "ID")

const isWrite = (request: string): boolean => !request.startsWith("GET ") && !request.startsWith("HEAD ")

/**
 * The calls on the lock: the only container creates and removals of a pass that creates and removes
 * no container of the workload, and any read of the lock by name.
 */
const isLockCall = (request: string): boolean =>
  request === "POST /containers/create" || request.startsWith("DELETE /containers/") || request.includes("/moor-lock-")

export const run = async (): Promise<Array<readonly [string, number]>> => {
  const bench = newBench()
  const moor = moorSide(bench)
  const proxy: CountingProxy = await startCountingProxy()
  const via = { endpoint: proxy.endpoint }
  try {
    const w = makeWorkload(bench, 0)
    await moor.pass(w)
    await waitHealthy(`${BENCH_LABEL}=${bench.token}`, N)

    const quietMs: Array<number> = []
    const quietCalls = new Set<string>()
    let quiet: ReadonlyArray<string> = []
    for (let i = 0; i < PASSES; i++) {
      proxy.reset()
      const q = await moor.pass(w, via)
      if (q.result.results.length > 0) throw new Error(`the quiet pass acted: ${q.result.results.length} actions`)
      quietMs.push(q.ms)
      quiet = proxy.requests()
      quietCalls.add([...quiet].map(withoutIds).sort().join(", "))
    }
    if (quietCalls.size !== 1) throw new Error(`quiet passes made different calls: ${[...quietCalls].join(" | ")}`)

    const victim = w.containers[0]?.name ?? ""
    await docker.getContainer(victim).kill()
    proxy.reset()
    const heal = await moor.pass(w, via)
    if (heal.result.results.filter((r) => r.outcome === "done").length === 0)
      throw new Error(`the pass did not start ${victim} again`)
    const healCalls = proxy.requests()
    const healWrites = healCalls.filter(isWrite)
    console.error(
      `quiet: a quiet pass: ${[...quietCalls].join("")}\nquiet: the heal pass: ${healCalls.map(withoutIds).join(", ")}`
    )
    return [
      ["quiet_pass_api_calls", quiet.length],
      ["quiet_pass_write_calls", quiet.filter(isWrite).length],
      ["quiet_pass_lock_calls", quiet.filter(isLockCall).length],
      ["quiet_pass_ms", median(quietMs)],
      ["heal_pass_api_calls", healCalls.length],
      ["heal_pass_write_calls", healWrites.length],
      ["heal_pass_lock_write_calls", healWrites.filter(isLockCall).length]
    ]
  } finally {
    await cleanup(bench)
    await proxy.close()
    await moor.dispose()
  }
}

if (import.meta.main) for (const [name, value] of await run()) console.log(`${name} ${value}`)
