/**
 * Spec directories for the fleet tests, written to a temporary directory: a `moor.yaml` declaring
 * hosts (engine A over its socket, engine B over TCP with mutual TLS, or any other engine) and one
 * directory per app with its `compose.yaml`. Rewriting a spec (an app moved) keeps the directory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { engineBTls } from "./fleet-engines.ts"

export interface FleetHost {
  readonly name: string
  /** The `engine:` line as written; absent: no engine key (the default socket). */
  readonly engine?: string
  readonly certPath?: string
  /** `ssh: { known_hosts, accept_new }` (ssh:// engines). */
  readonly ssh?: { readonly knownHosts?: string; readonly acceptNew?: boolean }
  readonly labels?: Readonly<Record<string, string>>
}

/** Host `a`: engine A over its unix socket. */
export const hostA = (labels: Readonly<Record<string, string>> = {}): FleetHost => ({
  name: "a",
  engine: "unix:///var/run/docker.sock",
  labels
})

/** Host `b`: engine B over tcp:// with mutual TLS (`cert_path:` holding ca.pem, cert.pem, key.pem). */
export const hostB = (labels: Readonly<Record<string, string>> = {}): FleetHost => ({
  name: "b",
  engine: engineBTls.endpoint,
  certPath: engineBTls.certPath,
  labels
})

export interface FleetService {
  readonly image?: string
  /** `HOST:CONTAINER` published ports. */
  readonly ports?: ReadonlyArray<string>
  readonly environment?: Readonly<Record<string, string>>
  readonly restart?: string
  readonly command?: ReadonlyArray<string>
  /** `depends_on`: service -> condition. */
  readonly dependsOn?: Readonly<Record<string, string>>
  /** `healthcheck: { disable: true }`. */
  readonly noHealthcheck?: boolean
}

export interface FleetApp {
  readonly name: string
  /** `x-moor.hosts`. */
  readonly hosts?: ReadonlyArray<string>
  /** `x-moor.placement.labels`. */
  readonly labels?: Readonly<Record<string, string>>
  /** `x-moor.requires`: an app name, or an app with its `on_start` hook (a script of the provider). */
  readonly requires?: ReadonlyArray<string | { readonly app: string; readonly onStart: string }>
  /** Scripts in the app's directory (path relative to it -> content), e.g. its hooks. */
  readonly files?: Readonly<Record<string, string>>
  /** Default: one service `web` on moor-fixture/app:1. */
  readonly services?: Readonly<Record<string, FleetService>>
}

export interface FleetSpec {
  readonly scope: string
  readonly hosts: ReadonlyArray<FleetHost>
  readonly apps: ReadonlyArray<FleetApp>
  /** Declare the hosts in `hosts.yaml` (moor.yaml then holds the scope alone). Default: moor.yaml. */
  readonly hostsFile?: boolean
}

const q = (s: string): string => JSON.stringify(s)
const flow = (m: Readonly<Record<string, string>>): string =>
  `{ ${Object.entries(m)
    .map(([k, v]) => `${k}: ${q(v)}`)
    .join(", ")} }`

/** The `hosts:` list, as a YAML sequence. */
export const hostsYaml = (hosts: ReadonlyArray<FleetHost>): string =>
  [
    ...hosts.flatMap((h) => [
      `- name: ${h.name}`,
      ...(h.engine === undefined ? [] : [`  engine: ${q(h.engine)}`]),
      ...(h.certPath === undefined ? [] : [`  cert_path: ${q(h.certPath)}`]),
      ...(h.ssh === undefined || Object.keys(h.ssh).length === 0
        ? []
        : [
            `  ssh: { ${[
              ...(h.ssh.knownHosts === undefined ? [] : [`known_hosts: ${q(h.ssh.knownHosts)}`]),
              ...(h.ssh.acceptNew === undefined ? [] : [`accept_new: ${h.ssh.acceptNew}`])
            ].join(", ")} }`
          ]),
      ...(h.labels === undefined || Object.keys(h.labels).length === 0 ? [] : [`  labels: ${flow(h.labels)}`])
    ]),
    ""
  ].join("\n")

export const moorYaml = (spec: Pick<FleetSpec, "scope" | "hosts">): string =>
  `scope: ${spec.scope}\nhosts:\n${hostsYaml(spec.hosts)
    .split("\n")
    .map((l) => (l === "" ? l : `  ${l}`))
    .join("\n")}`

export const composeYaml = (app: FleetApp): string => {
  const x = [
    ...(app.hosts === undefined ? [] : [`  hosts: [${app.hosts.join(", ")}]`]),
    ...(app.labels === undefined ? [] : [`  placement: { labels: ${flow(app.labels)} }`]),
    ...(app.requires === undefined
      ? []
      : [
          "  requires:",
          ...app.requires.map((r) =>
            typeof r === "string" ? `    - ${r}` : `    - { app: ${r.app}, on_start: ${q(r.onStart)} }`
          )
        ])
  ]
  const services = app.services ?? { web: {} }
  return [
    ...(x.length === 0 ? [] : ["x-moor:", ...x]),
    "services:",
    ...Object.entries(services).flatMap(([name, s]) => [
      `  ${name}:`,
      `    image: ${s.image ?? "moor-fixture/app:1"}`,
      ...(s.ports === undefined ? [] : [`    ports: [${s.ports.map(q).join(", ")}]`]),
      ...(s.environment === undefined ? [] : [`    environment: ${flow(s.environment)}`]),
      ...(s.restart === undefined ? [] : [`    restart: ${q(s.restart)}`]),
      ...(s.command === undefined ? [] : [`    command: [${s.command.map(q).join(", ")}]`]),
      ...(s.dependsOn === undefined
        ? []
        : [
            "    depends_on:",
            ...Object.entries(s.dependsOn).map(([dep, condition]) => `      ${dep}: { condition: ${condition} }`)
          ]),
      ...(s.noHealthcheck === true ? ["    healthcheck: { disable: true }"] : [])
    ]),
    ""
  ].join("\n")
}

/** Writes (or rewrites) the spec into `dir`: moor.yaml and each app's compose.yaml and files. */
export const writeSpec = (dir: string, spec: FleetSpec): string => {
  mkdirSync(dir, { recursive: true })
  if (spec.hostsFile === true) {
    writeFileSync(join(dir, "moor.yaml"), `scope: ${spec.scope}\n`)
    writeFileSync(join(dir, "hosts.yaml"), hostsYaml(spec.hosts))
  } else writeFileSync(join(dir, "moor.yaml"), moorYaml(spec))
  for (const app of spec.apps) {
    mkdirSync(join(dir, app.name), { recursive: true })
    writeFileSync(join(dir, app.name, "compose.yaml"), composeYaml(app))
    for (const [file, content] of Object.entries(app.files ?? {})) {
      mkdirSync(dirname(join(dir, app.name, file)), { recursive: true })
      writeFileSync(join(dir, app.name, file), content)
    }
  }
  return dir
}

/** Takes an app out of a spec written by `writeSpec` (its directory goes). */
export const dropApp = (dir: string, app: string): void => rmSync(join(dir, app), { recursive: true, force: true })

const made: Array<string> = []

/** A fresh temporary directory (spec roots, repos); `removeTempDirs` removes them all. */
export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `moor-fleet-${prefix}-`))
  made.push(dir)
  return dir
}

export const removeTempDirs = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}
