/**
 * Running the bundles the way their users do: the sources are built (scripts/build.ts) into a
 * temporary checkout-like directory (package.json, action.yml, dist/, bin/, and no node_modules),
 * then `node dist/action.js` runs as the Actions runner starts it: inputs as `INPUT_<NAME>`
 * variables (upper-cased, dashes kept), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as files.
 */
import { spawn } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { buildAll, root } from "../../scripts/build.ts"

/** Node 24 as the runner has it (`runs.using: node24`). */
export const node = existsSync(join(root, "node_modules/.bin/node"))
  ? join(root, "node_modules/.bin/node")
  : process.execPath

export interface Checkout {
  readonly dir: string
  readonly action: string
  readonly cli: string
  readonly launcher: string
  readonly remove: () => void
}

/** Builds the bundles from the current sources into a fresh directory laid out like the repository. */
export const buildCheckout = async (): Promise<Checkout> => {
  const dir = mkdtempSync(join(tmpdir(), "moor-action-e2e-"))
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }))
  copyFileSync(join(root, "action.yml"), join(dir, "action.yml"))
  await buildAll(join(dir, "dist"))
  mkdirSync(join(dir, "bin"))
  copyFileSync(join(root, "bin/moor.js"), join(dir, "bin/moor.js"))
  return {
    dir,
    action: join(dir, "dist/action.js"),
    cli: join(dir, "dist/moor.js"),
    launcher: join(dir, "bin/moor.js"),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}

export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `node args...` in `cwd` with exactly `env` (plus PATH and HOME), within `timeoutMs`. */
export const runNode = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Readonly<Record<string, string>>; readonly timeoutMs?: number }
): Promise<Finished> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(node, [...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(
        new Error(
          `node ${args.join(" ")} did not finish within ${options.timeoutMs ?? 170_000} ms\n${stdout}\n${stderr}`
        )
      )
    }, options.timeoutMs ?? 170_000)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr })
    })
  })

/** Parses a GITHUB_OUTPUT file (`name<<DELIMITER` ... `DELIMITER` blocks, or `name=value` lines). */
export const parseOutputFile = (text: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ""
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc !== null) {
      const [, name = "", delimiter] = heredoc
      const value: Array<string> = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? "")
      out[name] = value.join("\n")
    } else if (line.includes("=")) {
      out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1)
    }
  }
  return out
}

export interface ActionRun extends Finished {
  readonly outputs: Record<string, string>
  readonly summary: string
}

/**
 * Runs the bundled Action as the runner does, in `workspace` (GITHUB_WORKSPACE, the cwd), with
 * `inputs` by their action.yml names and extra environment `env`.
 */
export const runAction = async (
  checkout: Checkout,
  workspace: string,
  inputs: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string>> = {}
): Promise<ActionRun> => {
  const files = mkdtempSync(join(tmpdir(), "moor-action-files-"))
  try {
    const outputFile = join(files, "output")
    const summaryFile = join(files, "summary")
    writeFileSync(outputFile, "")
    writeFileSync(summaryFile, "")
    const inputEnv = Object.fromEntries(
      Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, "_").toUpperCase()}`, value])
    )
    const done = await runNode([checkout.action], {
      cwd: workspace,
      env: {
        ...inputEnv,
        GITHUB_ACTIONS: "true",
        GITHUB_WORKSPACE: resolve(workspace),
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        ...env
      }
    })
    return {
      ...done,
      outputs: parseOutputFile(readFileSync(outputFile, "utf8")),
      summary: readFileSync(summaryFile, "utf8")
    }
  } finally {
    rmSync(files, { recursive: true, force: true })
  }
}
