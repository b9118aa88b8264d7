/**
 * Helpers for tests against the real engines: a unique scope per test file, a raw dockerode client
 * to look behind the adapter, clean-up by label, a free host port, the fixture images check. Engine A
 * (this machine's default engine, Docker 20.10) unless a test names another `TestEngine`.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import Dockerode from "dockerode"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { engineCurrent } from "./env.ts"

export const SOCKET = "/var/run/docker.sock"
export const raw = new Dockerode({ socketPath: SOCKET })

/** A real engine the e2e tests run on, as moor reaches it and as the tests look behind moor's back. */
export interface TestEngine {
  /** For test names: `engine A (20.10)`. */
  readonly label: string
  /** The endpoint moor is given (`unix:///var/run/docker.sock`). */
  readonly endpoint: string
  readonly socketPath: string
  readonly raw: Dockerode
  /** Where the engine's published ports answer: 127.0.0.1 for engine A, its own address for the others. */
  readonly publishAddress: string
  /** What to run when it does not answer. */
  readonly setup: string
}

export const testEngineA: TestEngine = {
  label: "engine A (20.10)",
  endpoint: `unix://${SOCKET}`,
  socketPath: SOCKET,
  raw,
  publishAddress: "127.0.0.1",
  setup: "bash scripts/test-env.sh docker fixtures"
}
export const testEngineCurrent: TestEngine = {
  label: "the current engine (26)",
  endpoint: engineCurrent.socket.DOCKER_HOST,
  socketPath: engineCurrent.socketPath,
  raw: new Dockerode({ socketPath: engineCurrent.socketPath }),
  publishAddress: engineCurrent.address,
  setup: "bash scripts/test-env.sh engine-current (as root)"
}
/** The engines people run that the tests cover: Docker 20.10 (API 1.41) and Docker 26 (API 1.45). */
export const testEngines: ReadonlyArray<TestEngine> = [testEngineA, testEngineCurrent]

/**
 * Options for the tests of a suite per engine: `describe.concurrent.each(testEngines)` runs the
 * engines' suites side by side (they share nothing), and this keeps each engine's tests one after
 * the other, as they were written.
 */
export const oneAtATime = { concurrent: false } as const

export const newScope = (): string => `test-${randomBytes(4).toString("hex")}`

/** Removes every container, network and volume carrying `moor.scope=<scope>`, and the scope's engine lock. */
export const cleanupScope = async (scope: string, engine: TestEngine = testEngineA): Promise<void> => {
  const raw = engine.raw
  const label = [`moor.scope=${scope}`]
  const containers = [
    ...(await raw.listContainers({ all: true, filters: { label } })),
    ...(await raw.listContainers({ all: true, filters: { label: [`moor.lock=${scope}`] } }))
  ]
  await Promise.all(
    containers.map((c) =>
      raw
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined)
    )
  )
  const networks = await raw.listNetworks({ filters: { label } })
  await Promise.all(
    networks.map((n) =>
      raw
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined)
    )
  )
  const volumes = await raw.listVolumes({ filters: { label } })
  await Promise.all(
    (volumes.Volumes ?? []).map((v) =>
      raw
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined)
    )
  )
}

export const FIXTURES = ["moor-fixture/app:1", "moor-fixture/app:2", "moor-fixture/crashy:1"] as const

/** Fails with what to run when the engine does not answer or the fixture images are not there. */
export const requireFixtures = async (engine: TestEngine = testEngineA): Promise<void> => {
  const images = await engine.raw.listImages().catch((e: unknown) => {
    throw new Error(`${engine.label} does not answer at ${engine.endpoint} (${String(e)}): run ${engine.setup}`)
  })
  const tags = new Set(images.flatMap((i) => i.RepoTags ?? []))
  const missing = FIXTURES.filter((f) => !tags.has(f))
  if (missing.length > 0)
    throw new Error(`fixture images missing on ${engine.label}: ${missing.join(", ")}. Run: ${engine.setup}`)
}

/** Whether nothing listens on `port` on every IPv4 address of this machine. */
const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer()
    s.once("error", () => resolve(false))
    s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)))
  })

/** Ports handed out by this process: each once. */
let nextPort = 20_000 + (randomBytes(2).readUInt16BE(0) % 8_000)

/**
 * A host port for a container to publish on engine A: below the kernel's ephemeral range (32768 and
 * up), so no outgoing connection takes it meanwhile; never handed out twice by this process; free on
 * this machine; and published by no container of engine A (the engine keeps a port allocated until
 * it has released it, which can outlast the container that held it).
 */
export const freePort = async (): Promise<number> => {
  const published = new Set(
    (await raw.listContainers({ all: true })).flatMap((c) => c.Ports.map((p) => p.PublicPort ?? 0))
  )
  for (;;) {
    const port = nextPort++
    if (nextPort >= 32_000) nextPort = 20_000
    if (!published.has(port) && (await bindable(port))) return port
  }
}

/** A minimal config for `image` in `scope`: no ports, mounts or networks. */
export const baseConfig = (scope: string, name: string, image: string): ContainerConfig => ({
  name,
  image,
  env: [],
  labels: { "moor.scope": scope },
  ports: [],
  mounts: [],
  networks: []
})

/**
 * A TCP port on 127.0.0.1 that accepts no connection: a listener whose backlog is full, so the
 * kernel drops further SYNs and a connect hangs (like a host that went away). Node cannot listen
 * without accepting, so python3 holds the socket.
 */
export const startHungListener = (): Promise<{ readonly port: number; readonly stop: () => void }> =>
  new Promise((resolve, reject) => {
    const script = [
      "import socket, time",
      "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
      "port = s.getsockname()[1]",
      "fill = []",
      "for i in range(3):",
      "    c = socket.socket(); c.setblocking(False)",
      "    try: c.connect(('127.0.0.1', port))",
      "    except BlockingIOError: pass",
      "    fill.append(c)",
      "print(port, flush=True)",
      "time.sleep(120)"
    ].join("\n")
    const child = spawn("python3", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] })
    child.once("error", (e) => reject(new Error(`python3 is needed for the hung-listener test: ${e.message}`)))
    child.stdout.once("data", (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }))
  })
