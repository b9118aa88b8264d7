/**
 * Shared by the gauntlet's sections: running moor as a process, the engine's view of a scope, the
 * summary lines each section prints (and appends to a report file when MOOR_GAUNTLET_REPORT is set).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { appendFileSync } from "node:fs"
import type Dockerode from "dockerode"
import { raw } from "./docker-e2e.ts"

export const NODE = process.execPath
export const CLI = "runners/cli/main.ts"

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const moor = (env: NodeJS.ProcessEnv, ...args: Array<string>): Promise<Run> =>
  new Promise((resolve) => {
    execFile(NODE, [CLI, ...args], { env, timeout: 300_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    })
  })

/**
 * `moor apply`, killed with SIGKILL once `afterResults` action results have been printed, or
 * `afterMs` after it printed its plan (execution starts right then), whichever comes first (or not
 * at all, when it ends before).
 */
export const applyKilled = (
  env: NodeJS.ProcessEnv,
  when: { readonly afterResults?: number; readonly afterMs?: number },
  ...args: Array<string>
): Promise<{ printed: number; killed: boolean }> =>
  new Promise((resolve) => {
    const child: ChildProcess = spawn(NODE, [CLI, "apply", ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    let printed = 0
    let killed = false
    let buffer = ""
    const kill = () => {
      if (killed) return
      killed = true
      child.kill("SIGKILL")
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    child.stdout!.on("data", (chunk: Buffer) => {
      if (timer === undefined && when.afterMs !== undefined) timer = setTimeout(kill, when.afterMs)
      buffer += chunk.toString()
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) {
        if (/^ {2}(ok|FAIL|skip) /.test(line)) printed++
        if (when.afterResults !== undefined && printed >= when.afterResults) kill()
      }
    })
    child.stderr!.resume()
    child.on("exit", () => {
      if (timer !== undefined) clearTimeout(timer)
      resolve({ printed, killed })
    })
  })

export interface EngineView {
  readonly containers: ReadonlyArray<{
    readonly id: string
    readonly name: string
    readonly state: string
    readonly labels: Record<string, string>
  }>
  readonly networks: ReadonlyArray<string>
  readonly volumes: ReadonlyArray<string>
}

/** Everything with `moor.scope=<scope>` on the default engine. */
export const engineView = async (scope: string): Promise<EngineView> => {
  const label = [`moor.scope=${scope}`]
  const containers = await raw.listContainers({ all: true, filters: { label } })
  const networks = await raw.listNetworks({ filters: { label } })
  const volumes = await raw.listVolumes({ filters: { label } })
  return {
    containers: containers
      .map((c) => ({ id: c.Id, name: c.Names[0]!.slice(1), state: c.State, labels: c.Labels }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    networks: networks.map((n) => n.Name).sort(),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name).sort()
  }
}

/** Removes a scope's containers and networks, keeping its volumes (their data must survive). */
export const removeContainersKeepVolumes = async (scope: string): Promise<void> => {
  const label = [`moor.scope=${scope}`]
  for (const c of await raw.listContainers({ all: true, filters: { label } })) {
    await raw
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined)
  }
  for (const n of await raw.listNetworks({ filters: { label } }))
    await raw
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined)
}

/** Runs a command in a container and returns its output. */
export const execIn = async (container: string, cmd: ReadonlyArray<string>): Promise<string> => {
  const exec = await raw.getContainer(container).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({ hijack: true, stdin: false })
  const chunks: Array<Buffer> = []
  await new Promise<void>((resolve) => {
    stream.on("data", (c: Buffer) => chunks.push(c))
    stream.on("end", () => resolve())
  })
  // Multiplexed frames: 8-byte headers before each chunk.
  const all = Buffer.concat(chunks)
  let out = ""
  for (let i = 0; i + 8 <= all.length;) {
    const size = all.readUInt32BE(i + 4)
    out += all.subarray(i + 8, i + 8 + size).toString()
    i += 8 + size
  }
  return out
}

/** A section's summary line: printed, and appended to $MOOR_GAUNTLET_REPORT when set. */
export const summary = (line: string): void => {
  console.log(`gauntlet: ${line}`)
  const file = process.env.MOOR_GAUNTLET_REPORT
  if (file !== undefined && file !== "") appendFileSync(file, `${line}\n`)
}

/**
 * A container moor does not own, next to the scope's (section 6, nothing lost): named like one of
 * the scope's, labelled like a Compose project's, running. It must stay exactly as it is: the same
 * container, never stopped, restarted or removed by moor.
 */
export interface Foreign {
  readonly engine: Dockerode
  readonly name: string
  readonly id: string
  readonly startedAt: string
}

export const plantForeign = async (engine: Dockerode, name: string): Promise<Foreign> => {
  await engine
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined)
  const c = await engine.createContainer({
    name,
    Image: "moor-fixture/app:1",
    Labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "web", owner: "someone else" }
  })
  await c.start()
  const seen = await c.inspect()
  return { engine, name, id: seen.Id, startedAt: seen.State.StartedAt }
}

/**
 * What moor did to a foreign container: nothing, or the problems found. `engineRestarted`: its own
 * engine was stopped since (section 3), which stops it; it must still be the same container.
 */
export const foreignProblems = async (f: Foreign, engineRestarted = false): Promise<Array<string>> => {
  const seen = await f.engine
    .getContainer(f.name)
    .inspect()
    .catch(() => undefined)
  if (seen === undefined) return [`foreign container ${f.name} is gone`]
  if (seen.Id !== f.id) return [`foreign container ${f.name} was replaced`]
  if (engineRestarted) return []
  if (!seen.State.Running) return [`foreign container ${f.name} is ${seen.State.Status}`]
  if (seen.State.StartedAt !== f.startedAt) return [`foreign container ${f.name} was restarted`]
  return []
}

export const removeForeign = (f: Foreign): Promise<unknown> =>
  f.engine
    .getContainer(f.name)
    .remove({ force: true })
    .catch(() => undefined)

/** The runs a repo keeps, newest first (`moor runs --json`). */
export const runsOf = async (env: NodeJS.ProcessEnv): Promise<ReadonlyArray<{ id: string; status: string }>> =>
  JSON.parse((await moor(env, "runs", "--json", "--limit", "10000")).stdout) as ReadonlyArray<{
    id: string
    status: string
  }>
