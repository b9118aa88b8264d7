/**
 * docker-compose v1 (Debian's `docker-compose` package) for the converge benchmark: installed with
 * apt when missing, run offline (`--no-build`, `pull_policy: never`, local images only) on a
 * Compose file written to a temp dir.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const BIN = "docker-compose"

const installed = (): string | undefined => {
  const r = spawnSync(BIN, ["version", "--short"], { encoding: "utf8" })
  return r.status === 0 ? r.stdout.trim() : undefined
}

const apt = (args: ReadonlyArray<string>): boolean =>
  spawnSync("apt-get", args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  }).status === 0

/** The installed version, installing Debian's package first when it is missing. */
export const ensureCompose = (): string => {
  const have = installed()
  if (have !== undefined) return have
  console.error("docker-compose not found: installing Debian's package (apt-get install -y docker-compose)")
  if (!apt(["install", "-y", "-qq", BIN])) {
    apt(["update", "-qq"])
    apt(["install", "-y", "-qq", BIN])
  }
  const now = installed()
  if (now === undefined)
    throw new Error("docker-compose is missing and could not be installed: run `apt-get install -y docker-compose`")
  return now
}

export interface ComposeProject {
  readonly up: (dockerHost?: string) => Promise<void>
  readonly dispose: () => void
}

/** Writes the file to a temp dir; `up()` runs `docker-compose -p PROJECT up -d --no-build` there. */
export const composeProject = (project: string, yaml: string): ComposeProject => {
  const dir = mkdtempSync(join(tmpdir(), "moor-bench-compose-"))
  const file = join(dir, "docker-compose.yml")
  writeFileSync(file, yaml)
  const up = (dockerHost?: string) =>
    new Promise<void>((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, COMPOSE_INTERACTIVE_NO_CLI: "1" }
      if (dockerHost === undefined) delete env.DOCKER_HOST
      else env.DOCKER_HOST = dockerHost
      const child = spawn(BIN, ["-p", project, "-f", file, "--ansi", "never", "up", "-d", "--no-build"], {
        cwd: dir,
        env,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout.on("data", (d: Buffer) => (output += d.toString()))
      child.stderr.on("data", (d: Buffer) => (output += d.toString()))
      child.on("error", reject)
      child.on("close", (code) =>
        code === 0 ? resolve() : reject(new Error(`docker-compose up exited with ${code}:\n${output}`))
      )
    })
  return { up, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}
