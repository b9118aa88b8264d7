/**
 * The two engines of the fleet tests, seen from behind moor's back: engine A (this machine's
 * default socket) and engine B (`scripts/test-env.sh engine-b`, its own socket; moor reaches it over
 * TCP with mutual TLS). Listing and clean-up by scope label on both, stopping and restarting B.
 */
import { execFile } from "node:child_process"
import { PassThrough } from "node:stream"
import Dockerode from "dockerode"
import { engineB } from "./env.ts"

export const engineA = new Dockerode({ socketPath: "/var/run/docker.sock" })
export const engineBRaw = new Dockerode({ socketPath: engineB.socketPath })

/** The engine behind each of the fleet's host names. */
export const engines: Readonly<Record<"a" | "b", Dockerode>> = { a: engineA, b: engineBRaw }

export interface SeenContainer {
  readonly name: string
  readonly id: string
  readonly state: string
  /** "healthy", "unhealthy", "starting" or "none". */
  readonly health: string
  readonly labels: Readonly<Record<string, string>>
}

const healthOf = (status: string): string =>
  /\(healthy\)/.test(status)
    ? "healthy"
    : /\(unhealthy\)/.test(status)
      ? "unhealthy"
      : /health: starting/.test(status)
        ? "starting"
        : "none"

/** This scope's containers on one engine, sorted by name. */
export const containersOf = async (engine: Dockerode, scope: string): Promise<ReadonlyArray<SeenContainer>> => {
  const list = await engine.listContainers({ all: true, filters: { label: [`moor.scope=${scope}`] } })
  return list
    .map((c) => ({
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      id: c.Id,
      state: c.State,
      health: healthOf(c.Status),
      labels: c.Labels
    }))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
}

/** `name state` of this scope's containers on one engine. */
export const summaryOf = async (engine: Dockerode, scope: string): Promise<ReadonlyArray<string>> =>
  (await containersOf(engine, scope)).map((c) => `${c.name} ${c.state}`)

/**
 * Removes every container, network and volume labelled with the scope from one engine. An engine
 * that has just restarted may refuse a removal for a moment: what is left is tried again.
 */
export const cleanupEngine = async (engine: Dockerode, scope: string): Promise<void> => {
  const label = [`moor.scope=${scope}`]
  for (let attempt = 0; attempt < 3; attempt++) {
    const containers = [
      ...(await engine.listContainers({ all: true, filters: { label } })),
      // The scope's engine lock, left behind by a pass whose engine went away under it.
      ...(await engine.listContainers({ all: true, filters: { label: [`moor.lock=${scope}`] } }))
    ]
    if (containers.length === 0) break
    if (attempt > 0) await new Promise((r) => setTimeout(r, 1000))
    await Promise.all(
      containers.map((c) =>
        engine
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined)
      )
    )
  }
  const networks = await engine.listNetworks({ filters: { label } })
  await Promise.all(
    networks.map((n) =>
      engine
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined)
    )
  )
  const volumes = await engine.listVolumes({ filters: { label } })
  await Promise.all(
    (volumes.Volumes ?? []).map((v) =>
      engine
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined)
    )
  )
}

/** Clean-up on both engines (B only when it answers). */
export const cleanupFleet = async (scope: string): Promise<void> => {
  await cleanupEngine(engineA, scope)
  if (await engineBUp()) await cleanupEngine(engineBRaw, scope)
}

export const engineBUp = (): Promise<boolean> =>
  engineBRaw.ping().then(
    () => true,
    () => false
  )

const testEnv = (command: "stop-engine-b" | "start-engine-b"): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(
      "bash",
      ["scripts/test-env.sh", command],
      { env: { ...process.env, MOOR_ENGINE_B_SYNC: "0" }, timeout: 120_000 },
      (error, stdout, stderr) =>
        error === null
          ? resolve(`${stdout}${stderr}`.trim())
          : reject(new Error(`scripts/test-env.sh ${command} failed: ${error.message}\n${stdout}${stderr}`))
    )
  })

/** "The host went away": stops B's dockerd (its containers stop with it; data is kept). */
export const stopEngineB = (): Promise<string> => testEnv("stop-engine-b")

/** Starts B again (idempotent); resolves once it answers. */
export const startEngineB = (): Promise<string> => testEnv("start-engine-b")

/** B's TLS client material and addresses, for specs. */
export const engineBTls = { endpoint: engineB.tls.DOCKER_HOST, certPath: engineB.certPath, address: engineB.address }

/** Runs `cmd` in a container and returns what it printed (stdout and stderr, demultiplexed). */
export const execOut = async (engine: Dockerode, container: string, cmd: ReadonlyArray<string>): Promise<string> => {
  const exec = await engine.getContainer(container).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({ hijack: true, stdin: false })
  const chunks: Array<Buffer> = []
  const sink = new PassThrough()
  sink.on("data", (c: Buffer) => chunks.push(c))
  engine.modem.demuxStream(stream, sink, sink)
  await new Promise<void>((resolve, reject) => {
    stream.on("end", () => resolve())
    stream.on("error", reject)
  })
  return Buffer.concat(chunks).toString("utf8")
}

/** GETs `url` and returns the body, or the error's message. */
export const fetchText = (url: string): Promise<string> =>
  fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
    (r) => r.text(),
    (e: Error) => `error: ${e.message}`
  )
