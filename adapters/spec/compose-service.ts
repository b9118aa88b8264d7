/** One Compose service to the model's `Service` (a plain object for `decodeDesired`). */
import { Result } from "effect"
import type { DependsOnCondition, HealthCheck, Mount, RestartPolicy } from "../../core/model/desired.ts"
import { isMoorLabel } from "../../core/names.ts"
import { envValues, readEnvFiles } from "./compose-env.ts"
import { SERVICE_KEYS, unsupportedHints } from "./compose-keys.ts"
import type { DeployReads } from "./compose-deploy.ts"
import { optionReaders } from "./compose-options.ts"
import { type ResourceReads, readDeploy, resourcesOf } from "./compose-resources.ts"
import { checkRuntime, type RuntimeReads, runtimeReaders } from "./compose-runtime.ts"
import { notAppliedReason, readBuild, readServiceFiles } from "./compose-configs.ts"
import { type MountContext, readMounts } from "./compose-mounts.ts"
import { serviceNetworks } from "./compose-networks.ts"
import { type PublishedPort, readPorts, showPublished } from "./compose-ports.ts"
import { at, type Pos } from "./problems.ts"
import {
  bool,
  bytes,
  duration,
  int,
  isNull,
  listOrDict,
  map,
  number,
  type Reader,
  readKeys,
  sorted,
  strings,
  stringOrList,
  text,
  wrongType
} from "./reader.ts"
import { shellSplit } from "./shell-split.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

/** A fixed container name, where it is written. */
export interface FixedName {
  readonly name: string
  readonly pos: Pos
  readonly path: string
}

export interface ServiceContext extends MountContext {
  /** The app's name (a service that is only built names its image after it, as Compose does). */
  readonly appName: string
  readonly declaredNetworks: ReadonlySet<string>
  readonly declaredConfigs: ReadonlySet<string>
  readonly declaredSecrets: ReadonlySet<string>
  readonly serviceNames: ReadonlySet<string>
  /** Services left out for their profiles, with those profiles. */
  readonly disabledServices?: ReadonlyMap<string, ReadonlyArray<string>>
  /** Collects every host port published, by service, to find clashes across services and apps. */
  readonly published?: Map<string, Array<PublishedPort>>
  /** Collects the fixed container names (`container_name`), by service, to find two of one name. */
  readonly containerNames?: Map<string, FixedName>
  /** Reads a file by its path relative to the app's directory. */
  readonly readFile: (relative: string) => Result.Result<Uint8Array, string>
}

const SERVICE_UNSUPPORTED = unsupportedHints(SERVICE_KEYS)
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/
const RESTART: ReadonlyArray<RestartPolicy> = ["no", "always", "on-failure", "unless-stopped"]
const CONDITIONS: ReadonlyArray<DependsOnCondition> = [
  "service_started",
  "service_healthy",
  "service_completed_successfully"
]

const command = (r: Reader, node: YNode, path: string): Array<string> | undefined => {
  if (node.kind === "seq") return strings(r, node, path)
  if (node.kind === "map" || typeof node.value === "boolean" || node.value === null)
    return wrongType(r, node, path, "a string or a list of strings")
  const s = text(r, node, path)
  if (s === undefined) return undefined
  const words = shellSplit(s)
  return Result.isFailure(words) ? r.problems.fail(node.pos, path, words.failure) : words.success
}

/** Labels: in a list, a label given twice takes the last value (with a warning), as in Compose. */
const labelMap = (r: Reader, node: YNode, path: string): Record<string, string> | undefined => {
  const kvs = listOrDict(r, node, path, "=", "last")
  return kvs === undefined ? undefined : sorted(kvs.map((kv) => [kv.key, kv.value ?? ""] as const))
}

const healthcheck = (r: Reader, node: YNode, path: string): HealthCheck | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: { -readonly [K in keyof HealthCheck]: HealthCheck[K] } = {}
  const ms = (key: "intervalMs" | "timeoutMs" | "startPeriodMs" | "startIntervalMs") => (e: YEntry, p: string) => {
    const v = duration(r, e.value, p)
    if (v !== undefined) out[key] = v
  }
  readKeys(r, m, path, {
    prefix: "healthcheck.",
    read: {
      test: (e, p) => {
        if (e.value.kind === "seq") {
          const list = strings(r, e.value, p)
          if (list === undefined) return
          const head = list[0]
          if (head !== "NONE" && head !== "CMD" && head !== "CMD-SHELL") {
            r.problems.fail(
              e.value.pos,
              p,
              `a test list starts with "CMD", "CMD-SHELL" or "NONE" (got "${head ?? ""}")`
            )
            return
          }
          out.test = list
        } else {
          const s = text(r, e.value, p)
          if (s !== undefined) out.test = ["CMD-SHELL", s]
        }
      },
      interval: ms("intervalMs"),
      timeout: ms("timeoutMs"),
      start_period: ms("startPeriodMs"),
      start_interval: ms("startIntervalMs"),
      retries: (e, p) => {
        const n = int(r, e.value, p)
        if (n !== undefined && n < 0) r.problems.fail(e.value.pos, p, "retries cannot be negative")
        else if (n !== undefined) out.retries = n
      },
      disable: (e, p) => {
        const b = bool(r, e.value, p)
        if (b !== undefined) out.disable = b
      }
    }
  })
  return sorted(Object.entries(out)) as HealthCheck
}

type Dependency = { readonly condition: DependsOnCondition; readonly required?: boolean }

const dependsOn = (r: Reader, node: YNode, path: string, self: string, ctx: ServiceContext) => {
  const out: Array<readonly [string, Dependency]> = []
  const check = (name: string, at_: YNode, p: string, required = true): boolean => {
    const profiles = ctx.disabledServices?.get(name)
    if (profiles !== undefined) {
      if (required)
        r.problems.fail(
          at_.pos,
          p,
          `service "${name}" runs only with profile ${profiles.join(" or ")}, which is not enabled: enable it (--profile, COMPOSE_PROFILES, or profiles: in moor.yaml), or make the dependency optional with required: false`
        )
      return false
    }
    if (name === self) {
      r.problems.fail(at_.pos, p, `service ${self} cannot depend on itself`)
      return false
    }
    if (!ctx.serviceNames.has(name)) {
      r.problems.fail(
        at_.pos,
        p,
        `service "${name}" is not defined in this file (services: ${[...ctx.serviceNames].sort().join(", ")}): name one of these`
      )
      return false
    }
    return true
  }
  if (node.kind === "seq") {
    node.items.forEach((item, i) => {
      const name = text(r, item, at(path, i))
      if (name !== undefined && check(name, item, at(path, i))) out.push([name, { condition: "service_started" }])
    })
    return sorted(out)
  }
  const m = map(r, node, path)
  if (m === undefined) return undefined
  for (const entry of m.entries) {
    const p = at(path, entry.key)
    const optional =
      entry.value.kind === "map" &&
      entry.value.entries.some((e) => e.key === "required" && e.value.kind === "scalar" && e.value.value === false)
    if (!check(entry.key, entry.value, p, !optional)) continue
    if (isNull(entry.value)) {
      out.push([entry.key, { condition: "service_started" }])
      continue
    }
    const dep = map(r, entry.value, p)
    if (dep === undefined) continue
    let condition: DependsOnCondition = "service_started"
    let required: boolean | undefined
    readKeys(r, dep, p, {
      prefix: "depends_on.",
      read: {
        condition: (e, pp) => {
          const c = text(r, e.value, pp)
          if (c === undefined) return
          const known = CONDITIONS.find((k) => k === c)
          if (known === undefined)
            r.problems.fail(
              e.value.pos,
              pp,
              `condition "${c}" is not one of ${CONDITIONS.join(", ")}: use one of these`
            )
          else condition = known
        },
        required: (e, pp) => {
          required = bool(r, e.value, pp)
        },
        restart: (e, pp) => {
          if (bool(r, e.value, pp) === true)
            r.problems.warn(
              e.keyPos,
              pp,
              `moor does not restart ${self} when ${entry.key} is restarted: it replaces a service only when its own spec changes`
            )
        }
      }
    })
    out.push([entry.key, { condition, ...(required === undefined ? {} : { required }) }])
  }
  return sorted(out)
}

const extraHosts = (r: Reader, node: YNode, path: string): Array<string> | undefined => {
  if (node.kind === "map") {
    const out: Array<string> = []
    for (const entry of node.entries) {
      const ips = stringOrList(r, entry.value, at(path, entry.key))
      if (ips !== undefined) for (const ip of ips) out.push(`${entry.key}:${ip}`)
    }
    return out
  }
  const list = strings(r, node, path)
  if (list === undefined) return undefined
  const out: Array<string> = []
  for (const [i, item] of list.entries()) {
    // "host=ip" or "host:ip" (an IPv6 address holds colons: split at the first one).
    const cut = item.includes("=") ? item.indexOf("=") : item.indexOf(":")
    if (cut <= 0 || cut === item.length - 1) {
      r.problems.fail(
        node.kind === "seq" ? node.items[i]?.pos : node.pos,
        at(path, i),
        `"${item}" is not HOST:IP or HOST=IP`
      )
      continue
    }
    const ip = item.slice(cut + 1)
    out.push(`${item.slice(0, cut)}:${ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip}`)
  }
  return out
}

export const readService = (
  r: Reader,
  name: string,
  entry: YEntry,
  path: string,
  ctx: ServiceContext
): Record<string, unknown> | undefined => {
  const before = r.problems.errors.length
  if (!SERVICE_NAME.test(name)) {
    r.problems.fail(
      entry.keyPos,
      path,
      `"${name}" is not a valid service name: rename it with letters, digits, '_', '.', '-', starting with a letter or digit`
    )
  }
  const node = map(r, entry.value, path)
  if (node === undefined) return undefined
  const out: Record<string, unknown> = {}
  const options = optionReaders(r, name, ctx)
  const set =
    <A>(key: string, read: (r: Reader, node: YNode, path: string) => A | undefined) =>
    (e: YEntry, p: string) => {
      const v = read(r, e.value, p)
      if (v !== undefined) out[key] = v
    }
  let build: YEntry | undefined
  let configs: ReadonlyArray<string> = []
  let secrets: ReadonlyArray<string> = []
  let environment: Array<readonly [string, string]> = []
  let fromFiles: Array<readonly [string, string]> = []
  let digests: Array<readonly [string, string]> = []
  const resources: ResourceReads = {}
  const runtime: RuntimeReads = {}
  const deploy: DeployReads = {}
  const setResource = (k: keyof ResourceReads, value: number, n: YNode, p: string) => {
    const prev = resources[k]
    if (prev !== undefined && prev.value !== value) {
      r.problems.fail(
        n.pos,
        p,
        `conflicts with the value ${prev.value} set by another key (line ${prev.node.pos.line}); keep one`
      )
      return
    }
    resources[k] = { value, node: n, path: p }
  }
  readKeys(r, node, path, {
    unsupported: SERVICE_UNSUPPORTED,
    read: {
      ...runtimeReaders(r, runtime),
      // Applied before the services are read (compose-app.ts): only its form is checked here.
      profiles: (e, p) => void stringOrList(r, e.value, p),
      ...options.read,
      image: (e, p) => {
        const image = text(r, e.value, p)
        if (image === "") r.problems.fail(e.value.pos, p, "image cannot be empty")
        else if (image !== undefined) out.image = image
      },
      command: set("command", command),
      entrypoint: set("entrypoint", command),
      environment: (e, p) => {
        const kvs = listOrDict(r, e.value, p, "=", "last")
        if (kvs !== undefined) environment = envValues(r, kvs)
      },
      env_file: (e, p) => {
        const files = readEnvFiles(r, e.value, p, ctx)
        fromFiles = files.env
        digests = files.digests
      },
      ports: (e, p) => {
        const published: Array<PublishedPort> = []
        const ports = readPorts(r, e.value, p, published)
        if (ports === undefined) return
        out.ports = ports
        ctx.published?.set(name, published)
      },
      volumes: (e, p) => {
        const mounts: Array<Mount> | undefined = readMounts(r, e.value, p, ctx)
        if (mounts !== undefined) out.mounts = mounts
      },
      networks: (e, p) => {
        const n = serviceNetworks(r, e.value, p, ctx.declaredNetworks)
        if (n !== undefined) out.networks = n
      },
      labels: (e, p) => {
        const labels = labelMap(r, e.value, p)
        if (labels === undefined) return
        for (const key of Object.keys(labels)) {
          if (isMoorLabel(key))
            r.problems.fail(
              e.value.pos,
              at(p, key),
              `${key} is in moor's own label namespace (moor.*), which moor sets itself: use another prefix`
            )
        }
        out.labels = labels
      },
      healthcheck: set("healthcheck", healthcheck),
      restart: (e, p) => {
        if (e.value.kind === "scalar" && e.value.value === false) {
          out.restart = "no"
          return
        }
        const v = text(r, e.value, p)
        if (v === undefined) return
        const policy = RESTART.find((x) => x === v)
        const retries = /^on-failure:(\d+)$/.exec(v)?.[1]
        if (policy !== undefined) out.restart = policy
        else if (retries !== undefined) {
          out.restart = "on-failure"
          if (Number(retries) > 0) out.restartRetries = Number(retries)
        } else
          r.problems.fail(
            e.value.pos,
            p,
            `restart "${v}" is not one of ${RESTART.join(", ")} or on-failure:N: use one of these`
          )
      },
      depends_on: (e, p) => {
        const d = dependsOn(r, e.value, p, name, ctx)
        if (d !== undefined) out.dependsOn = d
      },
      user: set("user", text),
      working_dir: set("workingDir", text),
      hostname: set("hostname", text),
      init: set("init", bool),
      stop_signal: set("stopSignal", text),
      stop_grace_period: set("stopGracePeriodMs", duration),
      extra_hosts: set("extraHosts", extraHosts),
      cap_add: set("capAdd", strings),
      cap_drop: set("capDrop", strings),
      read_only: set("readOnly", bool),
      tmpfs: set("tmpfs", stringOrList),
      cpus: (e, p) => {
        const n = number(r, e.value, p)
        if (n !== undefined) setResource("cpus", n, e.value, p)
      },
      mem_limit: (e, p) => {
        const n = bytes(r, e.value, p)
        if (n !== undefined) setResource("memory", n, e.value, p)
      },
      mem_reservation: (e, p) => {
        const n = bytes(r, e.value, p)
        if (n !== undefined) setResource("memoryReservation", n, e.value, p)
      },
      pids_limit: (e, p) => {
        const n = int(r, e.value, p)
        if (n !== undefined) setResource("pids", n, e.value, p)
      },
      deploy: (e, p) => readDeploy(r, e.value, p, setResource, deploy, options.reservations),
      build: (e, p) => {
        readBuild(r, e.value, p)
        build = e
      },
      configs: (e, p) => {
        configs = readServiceFiles(r, e.value, p, "config", ctx.declaredConfigs) ?? []
      },
      secrets: (e, p) => {
        secrets = readServiceFiles(r, e.value, p, "secret", ctx.declaredSecrets) ?? []
      },
      "x-moor": (e, p) => {
        const m = map(r, e.value, p)
        if (m === undefined) return
        readKeys(r, m, p, {
          prefix: "x-moor.",
          read: { health_timeout: set("healthTimeoutMs", duration) }
        })
      }
    }
  })
  const hasImage = node.entries.some((e) => e.key === "image")
  if (build !== undefined && hasImage) {
    r.problems.warn(
      build.keyPos,
      at(path, "build"),
      `moor pulls the image ${String(out.image ?? "")} rather than building it (build: is not applied yet)`
    )
  } else if (build !== undefined) {
    // The name Compose gives the image it builds; nothing pulls it, the service is not applied.
    out.image = `${ctx.appName}-${name}`.toLowerCase()
  } else if (!hasImage) {
    r.problems.fail(
      entry.keyPos,
      path,
      "image is required (moor runs images, it does not build them): set image: to the image to run"
    )
  }
  const run = checkRuntime(
    r,
    name,
    runtime,
    deploy.replicas,
    node.entries.find((e) => e.key === "networks"),
    ctx.serviceNames
  )
  if (run.replicas !== undefined && run.replicas > 1) {
    // Replicas share a range of host ports (each takes a free one), never one fixed port.
    const replicas = run.replicas
    const fixed = ctx.published
      ?.get(name)
      ?.find((p) => (p.port.publishedEnd ?? p.port.published ?? 0) - (p.port.published ?? 0) + 1 < replicas)
    if (fixed !== undefined)
      r.problems.fail(
        fixed.pos,
        fixed.path,
        `the service runs ${replicas} containers, which cannot all publish host port ${showPublished(fixed.port)}: publish a range of at least ${replicas} host ports ("8000-8009:80"), leave the host port out (the engine then chooses one), or run one replica`
      )
  }
  if (runtime.containerName !== undefined) {
    out.containerName = runtime.containerName.value
    ctx.containerNames?.set(name, {
      name: runtime.containerName.value,
      pos: runtime.containerName.node.pos,
      path: runtime.containerName.path
    })
  }
  if (run.replicas !== undefined && run.replicas !== 1) out.replicas = run.replicas
  if (runtime.networkMode !== undefined) out.networkMode = runtime.networkMode.value
  if (runtime.pullPolicy !== undefined && runtime.pullPolicy !== "missing") out.pullPolicy = runtime.pullPolicy
  if (runtime.pullRefreshMs !== undefined) out.pullRefreshMs = runtime.pullRefreshMs
  if (runtime.postStart !== undefined) out.postStart = runtime.postStart
  if (runtime.preStop !== undefined) out.preStop = runtime.preStop
  if (deploy.update !== undefined) out.update = deploy.update
  if (deploy.rollback !== undefined) out.rollback = deploy.rollback
  if (deploy.restartBudget !== undefined) out.restartBudget = deploy.restartBudget
  if (deploy.restart !== undefined) {
    // deploy.restart_policy wins over restart, as in Compose.
    out.restart = deploy.restart.policy
    if (deploy.restart.retries === undefined) delete out.restartRetries
    else out.restartRetries = deploy.restart.retries
  }
  if (run.dependsOn !== undefined) {
    const deps = (out.dependsOn ?? {}) as Record<string, unknown>
    if (deps[run.dependsOn] === undefined)
      out.dependsOn = sorted([...Object.entries(deps), [run.dependsOn, { condition: "service_started" }] as const])
  }
  const notApplied = notAppliedReason({ configs, secrets, buildOnly: build !== undefined && !hasImage })
  if (notApplied !== undefined) out.notApplied = notApplied
  const env = new Map([...fromFiles, ...environment])
  if (env.size > 0) out.environment = sorted(env)
  if (digests.length > 0) out.configDigests = sorted(digests)
  const res = resourcesOf(r, resources)
  if (res !== undefined) out.resources = res
  options.finish(out)
  if (r.problems.errors.length > before) return undefined
  return sorted(Object.entries(out))
}
