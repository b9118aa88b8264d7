/**
 * Startup cost of the shipped bundles, as a person or a workflow meets it: the process wall time
 * (spawn to exit) of
 *   - `startup_plan_ms`:   `node dist/moor.js plan examples/shop` (plan only: changes nothing);
 *   - `startup_action_ms`: `node dist/action.js` in plan mode on examples/shop, as the runner starts it;
 *   - `startup_handler_ms`: importing the web handler (runners/http/handler.ts) in a fresh process,
 *     measured inside it, from the TypeScript sources, and `startup_handler_bundled_ms` from the same
 *     module bundled by scripts/build.ts's options (left out when that file does not exist);
 * the median of RUNS runs (MOOR_BENCH_RUNS, default 9) after one warm-up run each; and the sizes
 * `action_bundle_bytes`, `cli_bundle_bytes`. Targets: startup under 400 ms, the Action under 1.5 MB.
 * With each wall time, the process's own CPU time (user + system, `*_cpu_ms`, read at exit through a
 * tiny `--import` hook): on a machine busy with other work, wall times grow with the wait for a CPU
 * while CPU times stay close to what the process itself costs.
 * Measures the committed dist/ (run `npm run build` first when the sources changed).
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { build } from "esbuild"
import { buildOptions } from "../scripts/build.ts"
import { median } from "./stats.ts"

const root = resolve(import.meta.dirname, "..")
const RUNS = Number(process.env.MOOR_BENCH_RUNS ?? "9")
const node = existsSync(join(root, "node_modules/.bin/node")) ? join(root, "node_modules/.bin/node") : process.execPath

/** Prints the process's CPU time at exit, on stderr, after a marker. */
const cpuHook = `data:text/javascript,${encodeURIComponent(
  'import { writeSync } from "node:fs"; process.on("exit", () => { const u = process.cpuUsage(); writeSync(2, `\\nmoor-bench-cpu-us ${u.user + u.system}\\n`) })'
)}`

interface Ran {
  readonly ms: number
  readonly cpuMs: number
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const runOnce = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>): Promise<Ran> =>
  new Promise((done, fail) => {
    const t0 = performance.now()
    const child = spawn(node, ["--import", cpuHook, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.once("error", fail)
    child.once("close", (code) => {
      const ms = performance.now() - t0
      const cpu = /\nmoor-bench-cpu-us (\d+)\n/.exec(stderr)
      done({ ms, cpuMs: cpu === null ? Number.NaN : Number(cpu[1]) / 1000, code, stdout, stderr })
    })
  })

/** The median wall and CPU times; fails with the output when a run does not exit 0. */
const medianOf = async (
  what: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {}
): Promise<{ readonly wall: number; readonly cpu: number }> => {
  const wall: Array<number> = []
  const cpu: Array<number> = []
  for (let i = 0; i <= RUNS; i++) {
    const r = await runOnce(args, env)
    if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stdout}${r.stderr}`)
    if (i > 0) {
      wall.push(r.ms)
      cpu.push(r.cpuMs)
    }
  }
  return { wall: median(wall), cpu: median(cpu) }
}

/** The median time to import `file` in a fresh process, measured inside it. */
const importTime = async (file: string): Promise<number> => {
  const script = [
    "const t0 = performance.now()",
    `await import(${JSON.stringify(file)})`,
    "console.log(performance.now() - t0)"
  ]
  const times: Array<number> = []
  for (let i = 0; i <= RUNS; i++) {
    const r = await runOnce(["--input-type=module", "-e", script.join("\n")], {})
    if (r.code !== 0) throw new Error(`importing ${file}: exit ${r.code}\n${r.stderr}`)
    if (i > 0) times.push(Number(r.stdout.trim()))
  }
  return median(times)
}

const requireBundle = (file: string): string => {
  const path = join(root, "dist", file)
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`)
  return path
}

export const run = async (): Promise<Array<readonly [string, number]>> => {
  const cli = requireBundle("moor.js")
  const action = requireBundle("action.js")
  const results: Array<readonly [string, number]> = []

  const plan = await medianOf("moor plan", [cli, "plan", "examples/shop"])
  results.push(["startup_plan_ms", plan.wall], ["startup_plan_cpu_ms", plan.cpu])

  const files = mkdtempSync(join(tmpdir(), "moor-bench-startup-"))
  try {
    const output = join(files, "output")
    const summary = join(files, "summary")
    writeFileSync(output, "")
    writeFileSync(summary, "")
    const env = {
      INPUT_SPEC: "examples/shop",
      INPUT_MODE: "plan",
      "INPUT_FAIL-ON-DRIFT": "false",
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_WORKSPACE: root
    }
    const act = await medianOf("the Action (plan)", [action], env)
    results.push(["startup_action_ms", act.wall], ["startup_action_cpu_ms", act.cpu])
  } finally {
    rmSync(files, { recursive: true, force: true })
  }

  const handler = join(root, "runners/http/handler.ts")
  if (existsSync(handler)) {
    results.push(["startup_handler_ms", await importTime(handler)])
    const out = mkdtempSync(join(tmpdir(), "moor-bench-handler-"))
    try {
      writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }))
      await build({ ...buildOptions(out), entryPoints: { handler } })
      results.push(["startup_handler_bundled_ms", await importTime(join(out, "handler.js"))])
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  } else {
    console.error(`startup: ${handler} does not exist yet: startup_handler_ms left out`)
  }

  results.push(["action_bundle_bytes", statSync(action).size], ["cli_bundle_bytes", statSync(cli).size])
  return results
}
