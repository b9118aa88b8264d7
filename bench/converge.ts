/**
 * `npm run bench -- converge`: a cold converge of 30 services, side by side on this engine, each
 * run from nothing (every container and network of the benchmark removed by label in between):
 *
 *   converge_cold_ms            moor: `reconcilePass` (live Docker layer, SQLite repo file, memory
 *                               bus; settleMs 0: it returns once all is created and started, like
 *                               `up -d`), pass start to pass result, 8 engine calls at a time
 *   converge_compose_ms         `docker-compose up -d --no-build` (v1, Debian's package; installed
 *                               with apt when missing) on the equivalent Compose file
 *   converge_bare_ms            a dockerode loop: the 3 networks, then create+start, 8 at a time
 *   converge_cold_c30_ms        moor with every engine call at once (Compose starts all 30 at once)
 *   converge_cold_{observe,execute,repo,bus,other}_ms   where moor's cold pass spends its time
 *   converge_cold_api_calls, converge_cold_write_calls, converge_compose_api_calls
 *   quiet_pass_ms               moor's pass with nothing to do (containers healthy)
 *   quiet_pass_api_calls, quiet_pass_write_calls   Docker API calls of that pass (writes: not GET/HEAD)
 *   compose_noop_ms             `docker-compose up -d` again, nothing changed
 *   and the ratios converge_cold_vs_compose, converge_cold_vs_bare, quiet_pass_vs_compose_noop.
 *
 * The workload is 3 apps of 10 services (moor-fixture/app:1, environment APP and SERVICE, no ports):
 * moor gives each app a network of its own, so the Compose file is one project with 3 networks and
 * the same 30 containers; 30 apps of 1 would make it 30 networks. Times are medians of RUNS runs
 * (sides interleaved, the first side rotating), after one warm-up round that is not counted and goes
 * through the counting proxy (test/support/docker-counting-proxy.ts) to count each side's API calls
 * and to check that Compose pulls nothing. The machine's load average is printed before and after:
 * on a shared engine the figures move with it, the ratios within a run much less.
 */
import { loadavg } from "node:os"
import { type CountingProxy, startCountingProxy } from "../test/support/docker-counting-proxy.ts"
import { bareConverge } from "./converge-bare.ts"
import { composeProject, ensureCompose } from "./converge-compose.ts"
import { moorSide, type Phases } from "./converge-moor.ts"
import {
  APPS,
  BENCH_LABEL,
  cleanup,
  docker,
  IMAGE,
  makeWorkload,
  newBench,
  SERVICES_PER_APP,
  waitHealthy,
  type Workload
} from "./converge-workload.ts"
import { median } from "./stats.ts"

/** Runs per figure (at least 3): `MOOR_BENCH_CONVERGE_RUNS`, default 5. */
const RUNS = Math.max(3, Number(process.env.MOOR_BENCH_CONVERGE_RUNS ?? 5) || 5)
/** moor again with every engine call at once (as Compose does, up to 64): what the concurrency lever gives. */
const WIDE = 30
const QUIET_PASSES_PER_RUN = 3
const N = APPS * SERVICES_PER_APP

/** A pull, whatever API version the client puts in the path (Compose sends `/v1.41/...`). */
const PULL = /^POST (\/v[\d.]+)?\/images\/create$/
const isWrite = (request: string): boolean => !request.startsWith("GET ") && !request.startsWith("HEAD ")

const settle = () => new Promise((r) => setTimeout(r, 500))

/** The time spent in each phase of a pass, from its spans; `other` is planning and the pass's own work. */
const phasesOf = (ms: number, phases: Phases) => {
  const sum = (pred: (name: string) => boolean) =>
    [...phases].filter(([name]) => pred(name)).reduce((s, [, v]) => s + v, 0)
  const observe = phases.get("observeHosts") ?? 0
  const execute = phases.get("execute") ?? 0
  // Repo calls other than the restart history (that one is inside observe).
  const repo = sum((name) => name.startsWith("Repo.") && name !== "Repo.recentRestarts")
  const bus = phases.get("Bus.publish") ?? 0
  return { observe, execute, repo, bus, other: ms - observe - execute - repo - bus }
}

type PhaseRow = ReturnType<typeof phasesOf>

const medianPhases = (rows: ReadonlyArray<PhaseRow>): PhaseRow => ({
  observe: median(rows.map((r) => r.observe)),
  execute: median(rows.map((r) => r.execute)),
  repo: median(rows.map((r) => r.repo)),
  bus: median(rows.map((r) => r.bus)),
  other: median(rows.map((r) => r.other))
})

const requireImage = async () => {
  const images = await docker.listImages({ filters: { reference: [IMAGE] } })
  if (images.length === 0)
    throw new Error(`${IMAGE} is not on this engine: build the fixture images with: bash scripts/test-env.sh fixtures`)
}

interface Counts {
  readonly total: number
  readonly writes: number
}
const countsOf = (requests: ReadonlyArray<string>): Counts => ({
  total: requests.length,
  writes: requests.filter(isWrite).length
})
const counted = async (proxy: CountingProxy, f: () => Promise<unknown>): Promise<Counts> => {
  proxy.reset()
  await f()
  return countsOf(proxy.requests())
}

export const run = async (): Promise<Array<readonly [string, number]>> => {
  await requireImage()
  const composeVersion = ensureCompose()
  const bench = newBench()
  const moor = moorSide(bench)
  const proxy = await startCountingProxy()
  const benchLabel = `${BENCH_LABEL}=${bench.token}`
  let runs = 0
  const next = (): Workload => makeWorkload(bench, runs++)
  /** `docker-compose up -d` on a fresh workload, then its no-op `up -d` (the containers healthy). */
  const composeUpTwice = async (dockerHost?: string) => {
    const w = next()
    const project = composeProject(w.project, w.composeYaml)
    try {
      const t0 = performance.now()
      await project.up(dockerHost)
      const cold = performance.now() - t0
      const coldRequests = [...proxy.requests()]
      await waitHealthy(benchLabel, N)
      proxy.reset()
      const t1 = performance.now()
      await project.up(dockerHost)
      return { cold, noop: performance.now() - t1, coldRequests, noopRequests: [...proxy.requests()] }
    } finally {
      project.dispose()
    }
  }
  const reset = async () => {
    await cleanup(bench)
    await settle()
  }
  console.error(
    `converge: ${N} services (${APPS} apps of ${SERVICES_PER_APP}, ${IMAGE}), docker-compose ${composeVersion}, ${RUNS} runs + 1 warm-up`
  )
  const loadBefore = loadavg()[0]!
  try {
    await reset()
    // Warm-up round, through the counting proxy: JIT, engine caches, and the API calls of each side.
    const warm = next()
    const viaProxy = { endpoint: proxy.endpoint }
    const moorCold = await counted(proxy, () => moor.pass(warm, viaProxy))
    await waitHealthy(benchLabel, N)
    const quiet = await counted(proxy, () => moor.pass(warm, viaProxy))
    await reset()
    proxy.reset()
    const composeWarm = await composeUpTwice(proxy.endpoint)
    const composeCold = countsOf(composeWarm.coldRequests)
    const composeNoop = countsOf(composeWarm.noopRequests)
    const pulls = composeWarm.coldRequests.filter((r) => PULL.test(r))
    if (pulls.length > 0)
      throw new Error(`docker-compose tried to pull (${pulls.join(", ")}): the images must be local`)
    await reset()
    await bareConverge(next())
    await reset()

    const cold: Array<number> = []
    const coldPhases: Array<PhaseRow> = []
    const quietMs: Array<number> = []
    const quietPhases: Array<PhaseRow> = []
    const wideMs: Array<number> = []
    const composeMs: Array<number> = []
    const noopMs: Array<number> = []
    const bareMs: Array<number> = []
    const sides = {
      moor: async () => {
        const w = next()
        const c = await moor.pass(w)
        cold.push(c.ms)
        coldPhases.push(phasesOf(c.ms, c.phases))
        await waitHealthy(benchLabel, N)
        for (let i = 0; i < QUIET_PASSES_PER_RUN; i++) {
          const q = await moor.pass(w)
          if (q.result.results.length > 0) throw new Error(`the quiet pass acted: ${q.result.results.length} actions`)
          quietMs.push(q.ms)
          quietPhases.push(phasesOf(q.ms, q.phases))
        }
      },
      moorWide: async () => {
        wideMs.push((await moor.pass(next(), { concurrency: WIDE })).ms)
      },
      compose: async () => {
        const { cold, noop } = await composeUpTwice()
        composeMs.push(cold)
        noopMs.push(noop)
      },
      bare: async () => {
        bareMs.push(await bareConverge(next()))
      }
    }
    const order = Object.values(sides)
    for (let r = 0; r < RUNS; r++) {
      // Rotate who goes first, so that no side always runs right after the same one.
      for (let k = 0; k < order.length; k++) {
        await order[(r + k) % order.length]!()
        await reset()
      }
      console.error(`converge: run ${r + 1}/${RUNS} done`)
    }
    const coldMed = median(cold)
    const composeMed = median(composeMs)
    const bareMed = median(bareMs)
    const quietMed = median(quietMs)
    const noopMed = median(noopMs)
    const cp = medianPhases(coldPhases)
    const qp = medianPhases(quietPhases)
    return [
      ["converge_services", N],
      ["converge_runs", RUNS],
      ["converge_loadavg_before", loadBefore],
      ["converge_loadavg_after", loadavg()[0]!],
      ["converge_cold_ms", coldMed],
      ["converge_compose_ms", composeMed],
      ["converge_bare_ms", bareMed],
      ["converge_cold_vs_compose", coldMed / composeMed],
      ["converge_cold_vs_bare", coldMed / bareMed],
      [`converge_cold_c${WIDE}_ms`, median(wideMs)],
      [`converge_cold_c${WIDE}_vs_compose`, median(wideMs) / composeMed],
      ["converge_cold_observe_ms", cp.observe],
      ["converge_cold_execute_ms", cp.execute],
      ["converge_cold_repo_ms", cp.repo],
      ["converge_cold_bus_ms", cp.bus],
      ["converge_cold_other_ms", cp.other],
      ["converge_cold_api_calls", moorCold.total],
      ["converge_cold_write_calls", moorCold.writes],
      ["converge_compose_api_calls", composeCold.total],
      ["quiet_pass_ms", quietMed],
      ["quiet_pass_observe_ms", qp.observe],
      ["quiet_pass_repo_ms", qp.repo],
      ["quiet_pass_bus_ms", qp.bus],
      ["quiet_pass_other_ms", qp.other],
      ["quiet_pass_api_calls", quiet.total],
      ["quiet_pass_write_calls", quiet.writes],
      ["compose_noop_ms", noopMed],
      ["compose_noop_api_calls", composeNoop.total],
      ["quiet_pass_vs_compose_noop", quietMed / noopMed]
    ]
  } finally {
    await cleanup(bench)
    await proxy.close()
    await moor.dispose()
  }
}

if (import.meta.main) for (const [name, value] of await run()) console.log(`${name} ${value.toFixed(2)}`)
