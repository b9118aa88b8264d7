/**
 * Where an engine listens: `unix:///path`, `tcp://host:port` (TLS when cert material is given) or
 * `ssh://user@host[:port]`. Parsing is pure; reading TLS files happens in `loadTls`. Problems come
 * back as a sentence saying what is wrong and what to write instead.
 */
import { readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { Result } from "effect"
import type { SshSettings } from "./host-keys.ts"

/** One engine as declared: its host name in moor, and how to reach it. */
export interface EngineConfig {
  readonly name: string
  /** Default `unix:///var/run/docker.sock`. */
  readonly endpoint?: string | undefined
  /** File paths of the client's TLS material (PEM). Any of them turns TLS on for `tcp://`. */
  readonly tls?: TlsFiles | undefined
  /** How the host key of an `ssh://` engine is checked (default: ~/.ssh/known_hosts, nothing recorded). */
  readonly ssh?: SshSettings | undefined
}
export interface TlsFiles {
  readonly ca?: string | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
  /** false: do not check the engine's certificate (like `DOCKER_TLS=1` without `DOCKER_TLS_VERIFY`). */
  readonly verify?: boolean | undefined
}

export type Endpoint =
  | { readonly _tag: "unix"; readonly path: string }
  | { readonly _tag: "tcp"; readonly host: string; readonly port: number }
  | {
      readonly _tag: "ssh"
      readonly user: string | undefined
      readonly host: string
      readonly port: number | undefined
    }

export const DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"

const expected = "expected unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST[:PORT]"

const parsePort = (raw: string, what: string): Result.Result<number, string> => {
  const port = Number(raw)
  return Number.isInteger(port) && port > 0 && port < 65536 && /^\d+$/.test(raw)
    ? Result.succeed(port)
    : Result.fail(`${what}: port "${raw}" is not a number between 1 and 65535`)
}

/** `raw` as written by a user; the error names it and says what forms are understood. */
export const parseEndpoint = (raw: string): Result.Result<Endpoint, string> => {
  const bad = (why: string) => Result.fail(`endpoint "${raw}" ${why} (${expected})`)
  const trimmed = raw.trim()
  if (trimmed === "") return bad("is empty")
  if (trimmed.startsWith("unix://")) {
    const path = trimmed.slice("unix://".length)
    if (!path.startsWith("/")) return bad("needs an absolute socket path after unix://")
    return Result.succeed({ _tag: "unix", path })
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase()
  if (scheme === undefined) return bad("has no scheme")
  if (scheme !== "tcp" && scheme !== "ssh") return bad(`has the unsupported scheme "${scheme}://"`)
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return bad("is not a valid address")
  }
  if (url.hostname === "") return bad("has no host")
  if (url.pathname !== "" && url.pathname !== "/") return bad(`has a path ("${url.pathname}"), which is not supported`)
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1")
  if (scheme === "tcp") {
    if (url.port === "") return bad("needs a port (2375 for plain TCP, 2376 for TLS)")
    const port = parsePort(url.port, `endpoint "${raw}"`)
    return Result.map(port, (p): Endpoint => ({ _tag: "tcp", host, port: p }))
  }
  const user = url.username === "" ? undefined : decodeURIComponent(url.username)
  if (url.password !== "") return bad("has a password in it; use an SSH key or agent instead")
  if (url.port === "") return Result.succeed({ _tag: "ssh", user, host, port: undefined })
  return Result.map(parsePort(url.port, `endpoint "${raw}"`), (p): Endpoint => ({ _tag: "ssh", user, host, port: p }))
}

export const formatEndpoint = (e: Endpoint): string =>
  e._tag === "unix"
    ? `unix://${e.path}`
    : e._tag === "tcp"
      ? `tcp://${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`
      : `ssh://${e.user === undefined ? "" : `${e.user}@`}${e.host}${e.port === undefined ? "" : `:${e.port}`}`

/** The TLS material, read from disk. */
export interface TlsMaterial {
  readonly ca?: Buffer | undefined
  readonly cert?: Buffer | undefined
  readonly key?: Buffer | undefined
  readonly verify: boolean
}

/** Reads the PEM files; an unreadable file is named in the error. */
export const loadTls = (engine: string, files: TlsFiles): Result.Result<TlsMaterial, string> => {
  const read = (what: "ca" | "cert" | "key"): Result.Result<Buffer | undefined, string> => {
    const path = files[what]
    if (path === undefined) return Result.succeed(undefined)
    try {
      return Result.succeed(readFileSync(path))
    } catch (e) {
      const code = (e as { code?: unknown }).code
      return Result.fail(
        `engine "${engine}": cannot read the TLS ${what} file "${path}"${typeof code === "string" ? ` (${code})` : ""}`
      )
    }
  }
  return Result.gen(function* () {
    const ca = yield* read("ca")
    const cert = yield* read("cert")
    const key = yield* read("key")
    if ((cert === undefined) !== (key === undefined))
      return yield* Result.fail(`engine "${engine}": TLS needs both a client cert and its key, or neither`)
    return { ca, cert, key, verify: files.verify ?? true }
  })
}

/**
 * The engine the docker CLI would talk to, from its environment: `DOCKER_HOST` (default
 * unix:///var/run/docker.sock), `DOCKER_TLS_VERIFY` (any non-empty value: TLS, engine certificate
 * checked) or `DOCKER_TLS` (TLS without the check), certs from `DOCKER_CERT_PATH` (default
 * ~/.docker): ca.pem, cert.pem, key.pem.
 */
export const engineFromEnv = (
  name: string,
  env: Readonly<Record<string, string | undefined>>,
  home: string = homedir()
): EngineConfig => {
  const endpoint = env.DOCKER_HOST === undefined || env.DOCKER_HOST === "" ? DEFAULT_ENDPOINT : env.DOCKER_HOST
  const verify = (env.DOCKER_TLS_VERIFY ?? "") !== ""
  const tlsOn = verify || (env.DOCKER_TLS ?? "") !== ""
  if (!tlsOn || !endpoint.startsWith("tcp://")) return { name, endpoint }
  const dir =
    env.DOCKER_CERT_PATH === undefined || env.DOCKER_CERT_PATH === "" ? join(home, ".docker") : env.DOCKER_CERT_PATH
  return {
    name,
    endpoint,
    tls: { ca: join(dir, "ca.pem"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem"), verify }
  }
}
