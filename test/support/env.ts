/**
 * Where the servers started by `npm run setup` (scripts/test-env.sh) listen, with env overrides, and
 * a quick check that fails with what to do when one of them is not there.
 *
 *   beforeAll(() => requireServers("postgres", "nats"))
 */
import { createConnection } from "node:net"

const env = process.env

/** PostgreSQL 15 for the tests: user, password and database `moor` (override: MOOR_TEST_PG_URL). */
export const pgUrl: string = env.MOOR_TEST_PG_URL ?? "postgres://moor:moor@127.0.0.1:55432/moor"

/** nats-server with JetStream (override: MOOR_TEST_NATS_URL). */
export const natsUrl: string = env.MOOR_TEST_NATS_URL ?? "nats://127.0.0.1:54222"

/** The variables the Docker CLI (and dockerode's `modem`) read to pick an engine. */
export interface DockerEnv {
  readonly DOCKER_HOST: string
  readonly DOCKER_TLS_VERIFY?: string
  readonly DOCKER_CERT_PATH?: string
}

/** Engine A: the default engine of this machine (DOCKER_HOST if set). */
export const engineA: DockerEnv = { DOCKER_HOST: env.DOCKER_HOST ?? "unix:///var/run/docker.sock" }

const engineBSubnet = env.MOOR_ENGINE_B_SUBNET ?? "10.213.255"
const engineBSocketPath = env.MOOR_ENGINE_B_SOCK ?? "/run/moor-engine-b.sock"
const engineBCertPath = `${env.MOOR_ENGINE_B_BASE ?? "/var/lib/moor-engine-b"}/tls/client`
const engineBTlsPort = Number(env.MOOR_ENGINE_B_TLS_PORT ?? "2376")

/**
 * Engine B, a second Docker engine standing for a second host (`npm run setup -- engine-b`). Stop and
 * start it with `bash scripts/test-env.sh stop-engine-b` / `start-engine-b` to simulate a host that goes away.
 */
export const engineB = {
  /** B's own address: its published ports are here (not on 127.0.0.1); unreachable while B is stopped. */
  address: `${engineBSubnet}.2`,
  /** This machine as B's containers see it (A's published ports are reachable there). */
  hostAddress: `${engineBSubnet}.1`,
  socketPath: engineBSocketPath,
  /** Over the unix socket. */
  socket: { DOCKER_HOST: `unix://${engineBSocketPath}` } satisfies DockerEnv,
  /** Over TCP with mutual TLS; the directory holds ca.pem, cert.pem and key.pem. */
  tls: {
    DOCKER_HOST: `tcp://${engineBSubnet}.2:${engineBTlsPort}`,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: engineBCertPath
  } satisfies DockerEnv,
  tlsPort: engineBTlsPort,
  certPath: engineBCertPath
} as const

const engineCurrentSubnet = env.MOOR_ENGINE_CURRENT_SUBNET ?? "10.213.254"
const engineCurrentSocketPath = env.MOOR_ENGINE_CURRENT_SOCK ?? "/run/moor-engine-current.sock"

/**
 * The current engine: Docker 26 (API 1.45, Debian trixie's docker.io) beside engine A's 20.10
 * (`npm run setup -- engine-current`), for what people run today. Stop and start it with
 * `bash scripts/test-env.sh stop-engine-current` / `start-engine-current`. Its containers' own
 * addresses (in 10.214.0.0/16) are routed from this machine, like engine A's.
 */
export const engineCurrent = {
  /** Its own address: its published ports are here (not on 127.0.0.1); unreachable while it is stopped. */
  address: `${engineCurrentSubnet}.2`,
  /** This machine as its containers see it (A's published ports are reachable there). */
  hostAddress: `${engineCurrentSubnet}.1`,
  socketPath: engineCurrentSocketPath,
  socket: { DOCKER_HOST: `unix://${engineCurrentSocketPath}` } satisfies DockerEnv
} as const

/** Something to connect to: a TCP host and port, or a unix socket path. */
export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string }

const defaultPorts: Readonly<Record<string, number>> = { "postgres:": 5432, "postgresql:": 5432, "nats:": 4222 }

/** The endpoint of a `postgres://`, `nats://`, `tcp://` or `unix://` URL. */
export const endpointOf = (url: string): Endpoint => {
  const parsed = new URL(url)
  if (parsed.protocol === "unix:") return { path: parsed.pathname }
  const port = parsed.port === "" ? defaultPorts[parsed.protocol] : Number(parsed.port)
  if (port === undefined) throw new Error(`${url}: no port and no default port for ${parsed.protocol}`)
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port }
}

const show = (e: Endpoint): string => ("path" in e ? e.path : `${e.host}:${e.port}`)

/**
 * Resolves when something accepts a connection at `url` within `timeoutMs`; otherwise rejects with an
 * error naming the server, the address, the reason and `hint` (what to run).
 */
export const requireReachable = (what: string, url: string, hint: string, timeoutMs = 1000): Promise<void> => {
  const target = endpointOf(url)
  return new Promise((resolve, reject) => {
    const socket = createConnection("path" in target ? { path: target.path } : { host: target.host, port: target.port })
    const fail = (reason: string) => {
      socket.destroy()
      reject(new Error(`${what} does not answer at ${show(target)} (${reason}): ${hint}`))
    }
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`))
    socket.once("error", (e: NodeJS.ErrnoException) => fail(e.code ?? e.message))
    socket.once("connect", () => {
      socket.destroy()
      resolve()
    })
  })
}

export type TestServer = "postgres" | "nats" | "engine-b" | "engine-b-tls"

const servers: Readonly<Record<TestServer, { readonly what: string; readonly url: string; readonly hint: string }>> = {
  postgres: {
    what: "PostgreSQL for the tests",
    url: pgUrl,
    hint: "run `npm run setup` first (or set MOOR_TEST_PG_URL)"
  },
  nats: { what: "NATS for the tests", url: natsUrl, hint: "run `npm run setup` first (or set MOOR_TEST_NATS_URL)" },
  "engine-b": {
    what: "Docker engine B",
    url: engineB.socket.DOCKER_HOST,
    hint: "run `npm run setup -- engine-b` first (as root)"
  },
  "engine-b-tls": {
    what: "Docker engine B over TLS",
    url: engineB.tls.DOCKER_HOST,
    hint: "run `npm run setup -- engine-b` first (as root)"
  }
}

/** Checks, in parallel, that the given servers answer; rejects with the first failure. */
export const requireServers = async (...names: ReadonlyArray<TestServer>): Promise<void> => {
  await Promise.all(
    names.map((name) => {
      const s = servers[name]
      return requireReachable(s.what, s.url, s.hint)
    })
  )
}
