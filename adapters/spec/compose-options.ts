/**
 * The service keys that are engine settings moor passes through (the model's `ContainerOptions`):
 * every form the Compose Specification accepts, read as compose-go reads it, and a clear error with
 * line, column and key for anything else. Keys naming another service (`links`, `volumes_from`,
 * `ipc`/`pid: service:NAME`) add an implicit `depends_on` on it, as compose-go does; `label_file`
 * merges its files into `labels`; `attach` and `develop` are accepted with a warning.
 */
import { Result } from "effect"
import type { ContainerOptions, DeviceMapping, DeviceRequest, Ulimit } from "../../core/model/options.ts"
import { isMoorLabel } from "../../core/names.ts"
import { sha256 } from "./compose-env.ts"
import { parseDotenv } from "./dotenv.ts"
import { at, type Problems } from "./problems.ts"
import {
  bool,
  bytes,
  int,
  isNull,
  listOrDict,
  map,
  type Reader,
  readKeys,
  scalarText,
  seq,
  sorted,
  stringOrList,
  strings,
  text
} from "./reader.ts"
import { decodeText } from "./text-guard.ts"
import { parseDurationNs } from "./units.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

type Handler = (entry: YEntry, path: string) => void
type Mutable<A> = { -readonly [K in keyof A]: A[K] }

export interface OptionContext {
  readonly serviceNames: ReadonlySet<string>
  /** Reads a file by its path relative to the app's directory. */
  readonly readFile: (relative: string) => Result.Result<Uint8Array, string>
}

export interface OptionReaders {
  /** One handler per service key, for `readKeys`. */
  readonly read: Readonly<Record<string, Handler>>
  /** `deploy.resources.reservations` keys. */
  readonly reservations: Readonly<Record<string, Handler>>
  /**
   * Puts what was read into the service object: `options`, the labels of `label_file` under the
   * file's own `labels`, their digests into `configDigests`, and the implicit `depends_on` entries.
   */
  readonly finish: (out: Record<string, unknown>) => void
}

/** Keys accepted without effect: said once per file. */
const NO_EFFECT: Readonly<Record<string, string>> = {
  attach: "attach has no effect in moor (it attaches to no container's output); it is ignored",
  develop: "develop (compose watch) has no effect in moor, which runs images and syncs no files; it is ignored"
}
const warned = new WeakMap<Problems, Set<string>>()
const warnOnce = (r: Reader, e: YEntry, path: string): void => {
  const seen = warned.get(r.problems) ?? new Set<string>()
  warned.set(r.problems, seen)
  if (seen.has(e.key)) return
  seen.add(e.key)
  r.problems.warn(e.keyPos, path, NO_EFFECT[e.key] ?? "")
}

const ULIMITS = [
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack"
]
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const IPV6 = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%\w+)?$/
const MAC = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/
const EXPOSE = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i
const CGROUP_RULE = /^[acb] (\d+|\*):(\d+|\*) [rwm]{1,3}$/
const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/
const PLATFORM = /^[a-z0-9_-]+(\/[a-z0-9_-]+(\/[a-z0-9_.-]+)?)?$/i
const CDI = /^[a-z0-9.-]+\/[a-zA-Z0-9_.-]+=[a-zA-Z0-9_.:-]+$/
const SERVICE = "service:"
const CONTAINER = "container:"

/** A whole number, from a number or a numeric string. */
const whole = (r: Reader, node: YNode, path: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
  const n = int(r, node, path)
  if (n === undefined) return undefined
  if (n < min || n > max)
    return r.problems.fail(
      node.pos,
      path,
      max === Number.MAX_SAFE_INTEGER
        ? `must be ${min} or more, got ${n}`
        : `must be between ${min} and ${max}, got ${n}`
    )
  return n
}

/** `oneOf` values of a string key. */
const oneOf = (r: Reader, node: YNode, path: string, allowed: ReadonlyArray<string>, why: string) => {
  const s = text(r, node, path)
  if (s === undefined || s === "" || allowed.includes(s)) return s
  return r.problems.fail(node.pos, path, `"${s}" is not one of ${allowed.join(", ")}: ${why}`)
}

/** Each string of a list checked by `ok` (which returns the problem, or undefined). */
const checkedList = (
  r: Reader,
  node: YNode,
  path: string,
  read: (r: Reader, node: YNode, path: string) => Array<string> | undefined,
  ok: (s: string) => string | undefined
) => {
  const list = read(r, node, path)
  if (list === undefined) return undefined
  let good = true
  list.forEach((s, i) => {
    const problem = ok(s)
    if (problem === undefined) return
    good = false
    const item = node.kind === "seq" ? node.items[i] : node
    r.problems.fail(item?.pos, node.kind === "seq" ? at(path, i) : path, problem)
  })
  return good ? list : undefined
}

/** A mapping of names to scalar values (numbers and booleans as written). */
const scalarMap = (r: Reader, node: YNode, path: string): Record<string, string> | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: Array<readonly [string, string]> = []
  let ok = true
  for (const e of m.entries) {
    const v = isNull(e.value) ? "" : scalarText(r, e.value, at(path, e.key))
    if (v === undefined) ok = false
    else out.push([e.key, v])
  }
  return ok ? sorted(out) : undefined
}

const keyValues = (r: Reader, node: YNode, path: string, what: string): Record<string, string> | undefined => {
  const kvs = listOrDict(r, node, path)
  if (kvs === undefined) return undefined
  let ok = true
  for (const kv of kvs) {
    if (kv.value !== null) continue
    ok = false
    r.problems.fail(kv.node.pos, kv.path, `${kv.key} needs a value: write ${kv.key}=VALUE (${what})`)
  }
  return ok ? sorted(kvs.map((kv) => [kv.key, kv.value ?? ""] as const)) : undefined
}

const ulimits = (r: Reader, node: YNode, path: string): Record<string, Ulimit> | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: Array<readonly [string, Ulimit]> = []
  let ok = true
  for (const e of m.entries) {
    const p = at(path, e.key)
    if (!ULIMITS.includes(e.key)) {
      ok = false
      r.problems.fail(e.keyPos, p, `"${e.key}" is not a ulimit: use one of ${ULIMITS.join(", ")}`)
      continue
    }
    let limit: Ulimit | undefined
    if (e.value.kind === "map") {
      let soft: number | undefined
      let hard: number | undefined
      readKeys(r, e.value, p, {
        prefix: "ulimits.",
        read: {
          soft: (x, xp) => {
            soft = whole(r, x.value, xp, -1)
          },
          hard: (x, xp) => {
            hard = whole(r, x.value, xp, -1)
          }
        }
      })
      if (soft === undefined || hard === undefined) {
        if (!e.value.entries.some((x) => x.key === "soft") || !e.value.entries.some((x) => x.key === "hard"))
          r.problems.fail(e.value.pos, p, `a ulimit mapping needs both soft and hard (or write one number for both)`)
      } else if (hard !== -1 && (soft === -1 || soft > hard))
        r.problems.fail(e.value.pos, p, `the soft limit (${soft}) is above the hard limit (${hard})`)
      else limit = { soft, hard }
    } else {
      const n = whole(r, e.value, p, -1)
      if (n !== undefined) limit = { soft: n, hard: n }
    }
    if (limit === undefined) ok = false
    else out.push([e.key, limit])
  }
  return ok ? sorted(out) : undefined
}

/** `SOURCE[:TARGET[:PERMISSIONS]]` or `{ source, target, permissions }`. */
const device = (r: Reader, node: YNode, path: string): DeviceMapping | undefined => {
  let source: string | undefined
  let target: string | undefined
  let permissions = "rwm"
  if (node.kind === "map") {
    readKeys(r, node, path, {
      prefix: "devices.",
      read: {
        source: (e, p) => {
          source = text(r, e.value, p)
        },
        target: (e, p) => {
          target = text(r, e.value, p)
        },
        permissions: (e, p) => {
          permissions = text(r, e.value, p) ?? permissions
        }
      }
    })
    if (source === undefined && !node.entries.some((e) => e.key === "source"))
      return r.problems.fail(node.pos, path, "a device needs a source (the device on the host)")
  } else {
    const s = text(r, node, path)
    if (s === undefined) return undefined
    const parts = CDI.test(s) ? [s] : s.split(":")
    if (parts.length > 3)
      return r.problems.fail(node.pos, path, `"${s}" is not SOURCE[:TARGET[:PERMISSIONS]]: use the long syntax`)
    ;[source, target, permissions = "rwm"] = parts
  }
  if (source === undefined) return undefined
  const to = target === undefined || target === "" ? source : target
  if (!CDI.test(source) && (!source.startsWith("/") || !to.startsWith("/")))
    return r.problems.fail(
      node.pos,
      path,
      `a device is an absolute path (e.g. /dev/ttyUSB0) or a CDI name (vendor.com/class=name)`
    )
  if (!/^[rwm]{1,3}$/.test(permissions))
    return r.problems.fail(node.pos, path, `permissions "${permissions}" are not made of r, w and m (e.g. rwm)`)
  return { source, target: to, permissions }
}

/** A `gpus` or `deploy.resources.reservations.devices` entry. */
const deviceRequest = (r: Reader, node: YNode, path: string, prefix: string): DeviceRequest | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: Mutable<DeviceRequest> = {}
  const before = r.problems.errors.length
  readKeys(r, m, path, {
    prefix,
    read: {
      capabilities: (e, p) => {
        const v = strings(r, e.value, p)
        if (v !== undefined) out.capabilities = v
      },
      count: (e, p) => {
        if (e.value.kind === "scalar" && typeof e.value.value === "string" && e.value.value.toLowerCase() === "all")
          out.count = -1
        else if (e.value.kind === "scalar" && typeof e.value.value === "number") {
          const n = whole(r, e.value, p, -1)
          if (n !== undefined) out.count = n
        } else {
          const s = text(r, e.value, p)
          if (s === undefined) return
          if (s.toLowerCase() === "all") out.count = -1
          else if (/^\d+$/.test(s)) out.count = Number(s)
          else r.problems.fail(e.value.pos, p, `count "${s}" is neither "all" nor a number`)
        }
      },
      device_ids: (e, p) => {
        const v = strings(r, e.value, p)
        if (v !== undefined) out.deviceIds = v
      },
      driver: (e, p) => {
        const v = text(r, e.value, p)
        if (v !== undefined) out.driver = v
      },
      options: (e, p) => {
        const v = keyValues(r, e.value, p, "a driver option")
        if (v !== undefined) out.options = v
      }
    }
  })
  if (out.count !== undefined && out.deviceIds !== undefined)
    return r.problems.fail(m.pos, path, "count and device_ids cannot both be set: keep one")
  return r.problems.errors.length > before ? undefined : out
}

const blkio = (r: Reader, node: YNode, path: string): ContainerOptions["blkioConfig"] => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: Mutable<NonNullable<ContainerOptions["blkioConfig"]>> = {}
  const before = r.problems.errors.length
  const weight = (x: YNode, p: string) => {
    const n = whole(r, x, p, 0, 1000)
    if (n !== undefined && n > 0 && n < 10)
      return r.problems.fail(x.pos, p, `a weight is 0 or between 10 and 1000, got ${n}`)
    return n
  }
  const devices =
    <K extends string>(
      key: K,
      value: (x: YNode, p: string) => number | undefined
    ): ((e: YEntry, p: string) => Array<{ path: string } & Record<K, number>> | undefined) =>
    (e, p) => {
      const list = seq(r, e.value, p)
      if (list === undefined) return undefined
      return list.items.flatMap((item, i) => {
        const ip = at(p, i)
        const d = map(r, item, ip)
        if (d === undefined) return []
        let devicePath: string | undefined
        let n: number | undefined
        readKeys(r, d, ip, {
          prefix: "blkio_config.",
          read: {
            path: (x, xp) => {
              devicePath = text(r, x.value, xp)
            },
            [key]: (x: YEntry, xp: string) => {
              n = value(x.value, xp)
            }
          }
        })
        if (devicePath === undefined || n === undefined) {
          if (!d.entries.some((x) => x.key === "path") || !d.entries.some((x) => x.key === key))
            r.problems.fail(d.pos, ip, `an entry needs path and ${key}`)
          return []
        }
        return [{ path: devicePath, [key]: n } as { path: string } & Record<K, number>]
      })
    }
  const rate = devices("rate", (x, p) => bytes(r, x, p))
  const iops = devices("rate", (x, p) => whole(r, x, p, 0))
  readKeys(r, m, path, {
    prefix: "blkio_config.",
    read: {
      weight: (e, p) => {
        const n = weight(e.value, p)
        if (n !== undefined) out.weight = n
      },
      weight_device: (e, p) => {
        const v = devices("weight", weight)(e, p)
        if (v !== undefined) out.weightDevice = v
      },
      device_read_bps: (e, p) => {
        const v = rate(e, p)
        if (v !== undefined) out.deviceReadBps = v
      },
      device_read_iops: (e, p) => {
        const v = iops(e, p)
        if (v !== undefined) out.deviceReadIops = v
      },
      device_write_bps: (e, p) => {
        const v = rate(e, p)
        if (v !== undefined) out.deviceWriteBps = v
      },
      device_write_iops: (e, p) => {
        const v = iops(e, p)
        if (v !== undefined) out.deviceWriteIops = v
      }
    }
  })
  return r.problems.errors.length > before ? undefined : out
}

/** Microseconds: a number, or a duration (`400ms`, `1400us`) as the Compose Specification allows. */
const micros = (r: Reader, node: YNode, path: string): number | undefined => {
  if (node.kind === "scalar" && typeof node.value === "string" && !/^\s*-?\d+\s*$/.test(node.value)) {
    const s = text(r, node, path)
    if (s === undefined) return undefined
    const ns = parseDurationNs(s)
    return Result.isFailure(ns) ? r.problems.fail(node.pos, path, ns.failure) : Math.round(ns.success / 1000)
  }
  return whole(r, node, path, 0)
}

/** `memswap_limit`: a size, or -1 for unlimited swap. */
const swapLimit = (r: Reader, node: YNode, path: string): number | undefined => {
  if (node.kind === "scalar" && (node.value === -1 || node.value === "-1")) return -1
  return bytes(r, node, path)
}

export const optionReaders = (r: Reader, self: string, ctx: OptionContext): OptionReaders => {
  const options: Record<string, unknown> = {}
  const dependsOn = new Map<string, true>()
  let fileLabels: Record<string, string> | undefined
  const labelDigests: Array<readonly [string, string]> = []

  const set =
    <A>(field: keyof ContainerOptions, read: (r: Reader, node: YNode, path: string) => A | undefined): Handler =>
    (e, p) => {
      const v = read(r, e.value, p)
      if (v !== undefined) options[field] = v
    }
  /** A service of this app that this one refers to, as a dependency. */
  const service = (name: string, node: YNode, path: string, key: string): boolean => {
    if (name === self) {
      r.problems.fail(node.pos, path, `${key} cannot name the service itself`)
      return false
    }
    if (!ctx.serviceNames.has(name)) {
      r.problems.fail(
        node.pos,
        path,
        `service "${name}" is not defined in this file (services: ${[...ctx.serviceNames].sort().join(", ")}): name one of these`
      )
      return false
    }
    dependsOn.set(name, true)
    return true
  }
  /** Each item of a list of strings, checked by `check` (which reports its own problem). */
  const each = (
    field: keyof ContainerOptions,
    check: (s: string, node: YNode, path: string) => boolean,
    read: (r: Reader, node: YNode, path: string) => Array<string> | undefined = strings
  ): Handler =>
    set(field, (rr, node, path) => {
      const list = read(rr, node, path)
      if (list === undefined) return undefined
      const ok = list.map((s, i) =>
        node.kind === "seq" ? check(s, node.items[i] ?? node, at(path, i)) : check(s, node, path)
      )
      return ok.every(Boolean) ? list : undefined
    })
  const namespace =
    (key: string, modes: ReadonlyArray<string>): Handler =>
    (e, p) => {
      if (isNull(e.value)) return
      const s = text(r, e.value, p)
      if (s === undefined || s === "") return
      if (s.startsWith(SERVICE)) {
        if (service(s.slice(SERVICE.length), e.value, p, key)) options[key] = s
      } else if (s.startsWith(CONTAINER) && s.length > CONTAINER.length) options[key] = s
      else if (modes.includes(s)) options[key] = s
      else
        r.problems.fail(
          e.value.pos,
          p,
          `${key} "${s}" is not one of ${[...modes, "service:NAME", "container:NAME"].join(", ")}`
        )
    }

  const read: Record<string, Handler> = {
    expose: set("expose", (rr, node, path) => {
      const list = seq(rr, node, path)
      if (list === undefined) return undefined
      const out: Array<string> = []
      list.items.forEach((item, i) => {
        const s = text(rr, item, at(path, i))
        if (s === undefined) return
        const m = EXPOSE.exec(s)
        const first = Number(m?.[1])
        const last = m?.[2] === undefined ? first : Number(m[2])
        if (m === null || first < 1 || last > 65535 || last < first)
          rr.problems.fail(
            item.pos,
            at(path, i),
            `"${s}" is not PORT, PORT/PROTOCOL or START-END/PROTOCOL (e.g. 8080, 9000-9010/udp)`
          )
        else out.push(`${m[1]}${m[2] === undefined ? "" : `-${m[2]}`}/${(m[3] ?? "tcp").toLowerCase()}`)
      })
      return out.length === list.items.length ? out : undefined
    }),
    links: each("links", (s, node, path) => service(s.split(":")[0] ?? "", node, path, "links")),
    external_links: each("externalLinks", (s, node, path) =>
      s === "" || s.startsWith(":") ? (r.problems.fail(node.pos, path, `"${s}" is not CONTAINER[:ALIAS]`), false) : true
    ),
    dns: set("dns", (rr, node, path) =>
      checkedList(rr, node, path, stringOrList, (s) =>
        IPV4.test(s) || IPV6.test(s) ? undefined : `"${s}" is not an IP address (a DNS server is given by its address)`
      )
    ),
    dns_opt: set("dnsOpt", strings),
    dns_search: set("dnsSearch", stringOrList),
    sysctls: set("sysctls", (rr, node, path) => keyValues(rr, node, path, "a sysctl")),
    ulimits: set("ulimits", ulimits),
    logging: set("logging", (rr, node, path) => {
      const m = map(rr, node, path)
      if (m === undefined) return undefined
      const out: Mutable<NonNullable<ContainerOptions["logging"]>> = {}
      readKeys(rr, m, path, {
        prefix: "logging.",
        read: {
          driver: (e, p) => {
            const v = text(rr, e.value, p)
            if (v !== undefined) out.driver = v
          },
          options: (e, p) => {
            const v = isNull(e.value) ? {} : scalarMap(rr, e.value, p)
            if (v !== undefined) out.options = v
          }
        }
      })
      return out
    }),
    security_opt: (e, p) => {
      const list = checkedList(r, e.value, p, strings, (s) =>
        s === "no-new-privileges" || /^[a-z-]+[=:]/.test(s)
          ? undefined
          : `"${s}" is not a security option: write KEY=VALUE (e.g. no-new-privileges=true, seccomp=unconfined, apparmor=PROFILE)`
      )
      if (list === undefined) return
      const out: Array<string> = []
      list.forEach((s, i) => {
        const profile = /^seccomp[=:](.+)$/.exec(s)?.[1]
        if (profile === undefined || profile === "unconfined" || profile === "builtin" || profile.startsWith("{")) {
          out.push(s)
          return
        }
        // Compose reads a seccomp profile file (relative to the app) and passes its JSON inline.
        const item = e.value.kind === "seq" ? e.value.items[i] : e.value
        const inline = seccompProfile(profile, ctx)
        if (Result.isFailure(inline)) r.problems.fail(item?.pos, at(p, i), inline.failure)
        else out.push(`seccomp=${inline.success}`)
      })
      if (out.length === list.length) options.securityOpt = out
    },
    privileged: set("privileged", bool),
    devices: set("devices", (rr, node, path) => {
      const list = seq(rr, node, path)
      if (list === undefined) return undefined
      const out = list.items.map((item, i) => device(rr, item, at(path, i)))
      return out.every((d) => d !== undefined) ? out : undefined
    }),
    device_cgroup_rules: set("deviceCgroupRules", (rr, node, path) =>
      checkedList(rr, node, path, strings, (s) =>
        CGROUP_RULE.test(s)
          ? undefined
          : `"${s}" is not a device cgroup rule: write TYPE MAJOR:MINOR ACCESS (e.g. "c 1:3 mr", "a *:* rwm")`
      )
    ),
    group_add: set("groupAdd", strings),
    ipc: namespace("ipc", ["host", "private", "shareable", "none"]),
    pid: namespace("pid", ["host"]),
    uts: set("uts", (rr, node, path) =>
      oneOf(rr, node, path, ["host"], "the engine shares the host's UTS namespace or gives the container its own")
    ),
    userns_mode: set("usernsMode", (rr, node, path) =>
      oneOf(
        rr,
        node,
        path,
        ["host"],
        "the engine runs a container in the host's user namespace or in the one it is configured with"
      )
    ),
    cgroup: set("cgroup", (rr, node, path) =>
      oneOf(rr, node, path, ["host", "private"], "the container's cgroup namespace is the host's or its own")
    ),
    cgroup_parent: set("cgroupParent", text),
    shm_size: set("shmSize", bytes),
    tty: set("tty", bool),
    stdin_open: set("stdinOpen", bool),
    mac_address: set("macAddress", (rr, node, path) => {
      const s = text(rr, node, path)
      if (s === undefined || s === "" || MAC.test(s)) return s
      return rr.problems.fail(node.pos, path, `"${s}" is not a MAC address (e.g. 02:42:ac:11:00:02)`)
    }),
    domainname: set("domainname", text),
    platform: set("platform", (rr, node, path) => {
      const s = text(rr, node, path)
      if (s === undefined || s === "" || PLATFORM.test(s)) return s
      return rr.problems.fail(
        node.pos,
        path,
        `"${s}" is not a platform: write OS[/ARCH[/VARIANT]] (e.g. linux/amd64, linux/arm64/v8)`
      )
    }),
    runtime: set("runtime", text),
    isolation: set("isolation", (rr, node, path) =>
      oneOf(rr, node, path, ["default", "process", "hyperv"], "the isolation technologies of the engine")
    ),
    storage_opt: set("storageOpt", scalarMap),
    oom_kill_disable: set("oomKillDisable", bool),
    oom_score_adj: set("oomScoreAdj", (rr, node, path) => whole(rr, node, path, -1000, 1000)),
    // Compose leaves the engine's default for 0.
    mem_swappiness: set("memSwappiness", (rr, node, path) => {
      const n = whole(rr, node, path, 0, 100)
      return n === 0 ? undefined : n
    }),
    memswap_limit: set("memswapLimit", swapLimit),
    cpu_count: set("cpuCount", (rr, node, path) => whole(rr, node, path, 0)),
    cpu_percent: set("cpuPercent", (rr, node, path) => whole(rr, node, path, 0, 100)),
    cpu_shares: set("cpuShares", (rr, node, path) => whole(rr, node, path, 0)),
    cpu_quota: set("cpuQuota", (rr, node, path) => whole(rr, node, path, -1)),
    cpu_period: set("cpuPeriod", (rr, node, path) => whole(rr, node, path, 0)),
    cpu_rt_period: set("cpuRtPeriod", micros),
    cpu_rt_runtime: set("cpuRtRuntime", micros),
    cpuset: set("cpuset", (rr, node, path) => {
      const s = text(rr, node, path)
      if (s === undefined || s === "" || CPUSET.test(s)) return s
      return rr.problems.fail(node.pos, path, `"${s}" is not a CPU list (e.g. 0-3 or 0,2)`)
    }),
    blkio_config: set("blkioConfig", blkio),
    gpus: set("gpus", (rr, node, path) => {
      if (node.kind === "scalar") {
        const s = text(rr, node, path)
        if (s === undefined) return undefined
        return s === "all"
          ? [{ count: -1 }]
          : rr.problems.fail(node.pos, path, `gpus is "all" or a list of devices, got "${s}"`)
      }
      const list = seq(rr, node, path)
      if (list === undefined) return undefined
      const out = list.items.map((item, i) => deviceRequest(rr, item, at(path, i), "gpus."))
      return out.every((d) => d !== undefined) ? out : undefined
    }),
    label_file: (e, p) => {
      const files = stringOrList(r, e.value, p)
      if (files === undefined) return
      const labels = new Map<string, string>()
      files.forEach((file, i) => {
        const item = e.value.kind === "seq" ? (e.value.items[i] ?? e.value) : e.value
        const ip = e.value.kind === "seq" ? at(p, i) : p
        const read = labelFile(file, ctx, (name) => labels.get(name))
        if (Result.isFailure(read)) {
          r.problems.fail(item.pos, ip, read.failure)
          return
        }
        for (const [key, value] of read.success.labels) {
          if (isMoorLabel(key))
            r.problems.fail(
              item.pos,
              ip,
              `label file ${file}: ${key} is in moor's own label namespace (moor.*), which moor sets itself: use another prefix`
            )
          else labels.set(key, value)
        }
        labelDigests.push([file, read.success.digest])
      })
      fileLabels = sorted(labels)
    },
    annotations: set("annotations", (rr, node, path) => keyValues(rr, node, path, "an annotation")),
    volumes_from: each("volumesFrom", (s, node, path) => {
      const fromContainer = s.startsWith(CONTAINER)
      const rest = fromContainer ? s.slice(CONTAINER.length) : s
      const parts = rest.split(":")
      const [name = "", mode] = parts
      if (name === "" || parts.length > 2 || (mode !== undefined && mode !== "ro" && mode !== "rw")) {
        r.problems.fail(node.pos, path, `"${s}" is not SERVICE[:ro|rw] or container:NAME[:ro|rw]`)
        return false
      }
      return fromContainer || service(name, node, path, "volumes_from")
    }),
    credential_spec: set("credentialSpec", (rr, node, path) => {
      const m = map(rr, node, path)
      if (m === undefined) return undefined
      const out: Mutable<NonNullable<ContainerOptions["credentialSpec"]>> = {}
      readKeys(rr, m, path, {
        prefix: "credential_spec.",
        read: {
          file: (e, p) => {
            const v = text(rr, e.value, p)
            if (v !== undefined) out.file = v
          },
          registry: (e, p) => {
            const v = text(rr, e.value, p)
            if (v !== undefined) out.registry = v
          }
        },
        unsupported: { config: "a credential spec from a config needs Swarm: use file or registry" }
      })
      const given = Object.keys(out).length
      if (given === 1) return out
      if (given > 1) return rr.problems.fail(m.pos, path, "give one of file and registry, not both")
      return m.entries.length === 0 ? rr.problems.fail(m.pos, path, "give file or registry") : undefined
    }),
    use_api_socket: set("useApiSocket", bool),
    attach: (e, p) => warnOnce(r, e, p),
    develop: (e, p) => warnOnce(r, e, p)
  }

  const reservations: Record<string, Handler> = {
    devices: set("reservedDevices", (rr, node, path) => {
      const list = seq(rr, node, path)
      if (list === undefined) return undefined
      const out = list.items.map((item, i) => {
        const d = deviceRequest(rr, item, at(path, i), "deploy.resources.reservations.devices.")
        if (d !== undefined && d.capabilities === undefined)
          return rr.problems.fail(item.pos, at(path, i), "a device reservation needs capabilities (e.g. [gpu])")
        return d
      })
      return out.every((d) => d !== undefined) ? out : undefined
    })
  }

  const finish = (out: Record<string, unknown>): void => {
    if (Object.keys(options).length > 0) out.options = sorted(Object.entries(options))
    if (fileLabels !== undefined) {
      const merged = { ...fileLabels, ...(out.labels as Record<string, string> | undefined) }
      if (Object.keys(merged).length > 0) out.labels = sorted(Object.entries(merged))
    }
    if (labelDigests.length > 0)
      out.configDigests = sorted([
        ...Object.entries((out.configDigests as Record<string, string> | undefined) ?? {}),
        ...labelDigests
      ])
    const explicit = (out.dependsOn as Record<string, unknown> | undefined) ?? {}
    const implicit = [...dependsOn.keys()].filter((name) => !Object.hasOwn(explicit, name))
    if (implicit.length > 0)
      out.dependsOn = sorted([
        ...Object.entries(explicit),
        ...implicit.map((name) => [name, { condition: "service_started" }] as const)
      ])
  }
  return { read, reservations, finish }
}

/** A label file: `.env` syntax, variables resolved from the labels read before it. */
const labelFile = (
  file: string,
  ctx: OptionContext,
  lookup: (name: string) => string | undefined
): Result.Result<{ readonly labels: ReadonlyArray<readonly [string, string]>; readonly digest: string }, string> => {
  const read = ctx.readFile(file)
  if (Result.isFailure(read))
    return Result.fail(
      read.failure.startsWith("missing")
        ? `label file ${file} does not exist (the path is relative to the app's directory): create it or remove it from label_file`
        : `label file ${file}: ${read.failure}`
    )
  const content = decodeText(read.success)
  if (Result.isFailure(content)) return Result.fail(`label file ${file}: ${content.failure}`)
  const parsed = parseDotenv(content.success, lookup)
  if (Result.isFailure(parsed))
    return Result.fail(`label file ${file}, line ${parsed.failure.line}: ${parsed.failure.message}`)
  return Result.succeed({
    labels: parsed.success.map((e) => [e.key, e.value ?? ""] as const),
    digest: sha256(read.success)
  })
}

/** A seccomp profile file, as the compact JSON the engine takes inline. */
const seccompProfile = (file: string, ctx: OptionContext): Result.Result<string, string> => {
  const read = ctx.readFile(file)
  if (Result.isFailure(read))
    return Result.fail(
      read.failure.startsWith("missing")
        ? `seccomp profile ${file} does not exist (the path is relative to the app's directory)`
        : `seccomp profile ${file}: ${read.failure}`
    )
  const content = decodeText(read.success)
  if (Result.isFailure(content)) return Result.fail(`seccomp profile ${file}: ${content.failure}`)
  try {
    return Result.succeed(JSON.stringify(JSON.parse(content.success)))
  } catch (e) {
    return Result.fail(`seccomp profile ${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
}
