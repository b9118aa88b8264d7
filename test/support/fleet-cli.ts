/**
 * `moor` as a real process for the fleet tests: Node 24 on runners/cli/main.ts, with the repo and
 * bus given in the environment, output uncoloured.
 */
import { execFile } from "node:child_process"

export interface CliResult {
  /** The exit code; 124 when the process had to be killed at the timeout (it did not exit by itself). */
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** Epoch ms when the process was started and when it ended. */
  readonly startedAt: number
  readonly endedAt: number
}

export const cliEnv = (repo: string, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  MOOR_REPO: repo,
  MOOR_BUS: "memory",
  NO_COLOR: "1",
  ...extra
})

export const moor = (env: NodeJS.ProcessEnv, ...args: ReadonlyArray<string>): Promise<CliResult> =>
  moorUnder([], env, ...args)

/**
 * `moor` started by another command (`wrapper` and its arguments, e.g. `setpriv ... --`), which
 * runs Node on the CLI.
 */
export const moorUnder = (
  wrapper: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  ...args: ReadonlyArray<string>
): Promise<CliResult> =>
  new Promise((resolve) => {
    const startedAt = Date.now()
    const [command, ...rest] = [...wrapper, process.execPath]
    execFile(
      command!,
      [...rest, "runners/cli/main.ts", ...args],
      { env, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code =
          error === null ? 0 : typeof error.code === "number" ? error.code : typeof error.signal === "string" ? 124 : 1
        resolve({ code, stdout, stderr, startedAt, endedAt: Date.now() })
      }
    )
  })

/** Every line of an output that starts with `prefix` (after leading spaces). */
export const linesStarting = (text: string, prefix: string): ReadonlyArray<string> =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix))
