/**
 * `moor` as a real process for the bad-input gauntlet: the CLI bundled from the current sources as
 * `npm run build` bundles it (what `bin/moor.js` runs), under Node 24, in a clean environment (no
 * MOOR_* settings, no variable a case could depend on by accident), no colour; and a pool that runs
 * jobs a few at a time. The bundle starts in about a quarter of the time the sources take (one file
 * instead of hundreds of modules to strip and link), which is most of the section's run time.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { build } from "esbuild"
import { buildOptions, entries } from "../../scripts/build.ts"

const NODE = existsSync("node_modules/.bin/node") ? "node_modules/.bin/node" : process.execPath

export interface Cli {
  /** The bundled CLI (moor.js). */
  readonly path: string
  readonly remove: () => void
}

/** Bundles runners/cli/main.ts (only the CLI, not the Action) into a temporary directory. */
export const buildCli = async (): Promise<Cli> => {
  const dir = mkdtempSync(join(tmpdir(), "moor-bad-cli-"))
  // As in the repository: an ES module (without this Node would first try it as CommonJS).
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }))
  await build({ ...buildOptions(dir), entryPoints: { moor: entries.moor } })
  return { path: join(dir, "moor.js"), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface Exited {
  /** The exit code, or null when a signal ended the process. */
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Node's compile cache, shared by the run's processes: a start costs about half as much. */
const compileCache = join(tmpdir(), "moor-gauntlet-compile-cache")

/** Only what a person's shell would surely have: PATH and HOME (and Node's compile cache). */
export const cleanEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/root",
  NO_COLOR: "1",
  NODE_COMPILE_CACHE: compileCache
})

export const runMoor = (cli: Cli, args: ReadonlyArray<string>, timeoutMs = 120_000): Promise<Exited> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(NODE, [cli.path, ...args], {
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.once("error", reject)
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - t0) })
    })
  })

/** Runs the jobs given to it at most `limit` at a time, in the order they come. */
export const limiter = (limit: number) => {
  let running = 0
  const waiting: Array<() => void> = []
  return async <A>(job: () => Promise<A>): Promise<A> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
    try {
      return await job()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

/** A stack trace line, as Node prints them. */
export const STACK_LINE = /^ {4}at /m

/** How a process ended that is not a user-facing answer: a signal, an exit code other than 0, 1, 2. */
export const crashOf = (r: Exited): string | undefined => {
  if (r.code === null) return `killed by ${r.signal ?? "a signal"} (timeout?)`
  if (![0, 1, 2].includes(r.code)) return `exit code ${r.code}`
  if (STACK_LINE.test(r.stderr)) return "a stack trace on stderr"
  if (/internal error/i.test(r.stderr)) return "an internal error"
  return undefined
}
