/** `ports:` in the short (`127.0.0.1:8080-8081:80-81/udp`) and long syntax, to the model's `Port`s. */
import type { Port } from "../../core/model/desired.ts"
import { at, type Pos } from "./problems.ts"
import { int, type Reader, readKeys, text, wrongType } from "./reader.ts"
import type { YNode } from "./yaml-tree.ts"

type Range = readonly [number, number]

const parseRange = (s: string): Range | string => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s)
  if (m === null) return `"${s}" is not a port or a port range`
  const lo = Number(m[1])
  const hi = m[2] === undefined ? lo : Number(m[2])
  if (lo < 1 || hi > 65535) return `port ${lo < 1 ? lo : hi} is out of range (1-65535)`
  if (hi < lo) return `port range ${s} ends before it starts`
  return [lo, hi]
}

/** One short-syntax entry: the ports it stands for, or a sentence saying what is wrong. */
export const parseShortPort = (spec: string): Array<Port> | string => {
  let s = spec.trim()
  let protocol: "tcp" | "udp" | undefined
  const slash = s.lastIndexOf("/")
  if (slash !== -1) {
    const p = s.slice(slash + 1)
    if (p !== "tcp" && p !== "udp") return `protocol "${p}" is not supported (tcp or udp)`
    protocol = p
    s = s.slice(0, slash)
  }
  let hostIp: string | undefined
  if (s.startsWith("[")) {
    const close = s.indexOf("]")
    if (close === -1 || s[close + 1] !== ":") return `"${spec}": an IPv6 host address is written [addr]:host:container`
    hostIp = s.slice(1, close)
    s = s.slice(close + 2)
  }
  const parts = s.split(":")
  if (parts.length > 3 || (hostIp !== undefined && parts.length !== 2)) {
    return `"${spec}" is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL] (write an IPv6 address in brackets)`
  }
  if (parts.length === 3) hostIp = parts.shift()
  const target = parseRange(parts[parts.length - 1] ?? "")
  if (typeof target === "string") return target
  const publishedText = parts.length === 2 ? (parts[0] ?? "") : ""
  const published = publishedText === "" ? undefined : parseRange(publishedText)
  if (typeof published === "string") return published
  const count = target[1] - target[0] + 1
  // One container port on a range of host ports: the engine takes a free one of them.
  if (published !== undefined && count === 1 && published[1] > published[0])
    return [
      {
        target: target[0],
        published: published[0],
        publishedEnd: published[1],
        ...(hostIp === undefined || hostIp === "" ? {} : { hostIp }),
        ...(protocol === "udp" ? { protocol } : {})
      }
    ]
  if (published !== undefined && published[1] - published[0] + 1 !== count)
    return `"${spec}": the host and container ranges must have the same length`
  const out: Array<Port> = []
  for (let i = 0; i < count; i++) {
    out.push({
      target: target[0] + i,
      ...(published === undefined ? {} : { published: published[0] + i }),
      ...(hostIp === undefined || hostIp === "" ? {} : { hostIp }),
      ...(protocol === "udp" ? { protocol } : {})
    })
  }
  return out
}

const portNumber = (r: Reader, node: YNode, path: string): number | undefined => {
  const n = int(r, node, path)
  if (n === undefined) return undefined
  if (n < 1 || n > 65535) return r.problems.fail(node.pos, path, `port ${n} is out of range (1-65535)`)
  return n
}

const longPort = (r: Reader, node: YNode, path: string): Array<Port> | undefined => {
  if (node.kind !== "map") return wrongType(r, node, path, "a port")
  let target: number | undefined
  let published: Range | undefined
  let hostIp: string | undefined
  let protocol: "tcp" | "udp" | undefined
  const before = r.problems.errors.length
  readKeys(r, node, path, {
    prefix: "ports.",
    read: {
      target: (e, p) => {
        target = portNumber(r, e.value, p)
      },
      published: (e, p) => {
        // A number, or a string: a port or a range of host ports (`"8000-8005"`).
        if (e.value.kind === "scalar" && typeof e.value.value === "string") {
          const v = text(r, e.value, p)
          if (v === undefined) return
          const range = parseRange(v.trim())
          if (typeof range === "string") r.problems.fail(e.value.pos, p, range)
          else published = range
          return
        }
        const n = portNumber(r, e.value, p)
        if (n !== undefined) published = [n, n]
      },
      host_ip: (e, p) => {
        hostIp = text(r, e.value, p)
      },
      protocol: (e, p) => {
        const v = text(r, e.value, p)
        if (v === undefined) return
        if (v !== "tcp" && v !== "udp") r.problems.fail(e.value.pos, p, `protocol "${v}" is not supported (tcp or udp)`)
        else protocol = v
      },
      mode: (e, p) => {
        const v = text(r, e.value, p)
        if (v !== undefined && v !== "host") {
          r.problems.fail(e.value.pos, p, `mode "${v}" is not supported: moor publishes ports on the host (mode: host)`)
        }
      },
      // A label for people; it changes nothing on the engine.
      name: (e, p) => {
        text(r, e.value, p)
      },
      // What the port speaks (http, grpc...): a hint for tools, nothing the engine takes.
      app_protocol: (e, p) => {
        text(r, e.value, p)
      }
    }
  })
  if (r.problems.errors.length > before) return undefined
  if (target === undefined) return r.problems.fail(node.pos, path, "a port needs a target (the container port)")
  return [
    {
      target,
      ...(published === undefined ? {} : { published: published[0] }),
      ...(published === undefined || published[1] === published[0] ? {} : { publishedEnd: published[1] }),
      ...(hostIp === undefined || hostIp === "" ? {} : { hostIp }),
      ...(protocol === "udp" ? { protocol } : {})
    }
  ]
}

/** A port published on the host, with the entry it comes from (for clashes found later). */
export interface PublishedPort {
  readonly port: Port
  readonly pos: Pos
  readonly path: string
}

/** Addresses meaning "every address" of their family; no address at all publishes on both families. */
const ANY_ADDRESS = new Set(["", "0.0.0.0", "::"])
const family = (ip: string): "v4" | "v6" | "both" => (ip === "" ? "both" : ip.includes(":") ? "v6" : "v4")

/**
 * Two published ports clash on one host when their host ports (or ranges) overlap on one protocol and
 * one address family, on one address or on every address of it (`8080:80` and `127.0.0.1:8080:80`
 * cannot both bind; `0.0.0.0:80:80` and `[::]:80:80` can: one is IPv4, the other IPv6).
 */
export const portsClash = (a: Port, b: Port): boolean => {
  if (a.published === undefined || b.published === undefined) return false
  const [a0, a1] = [a.published, a.publishedEnd ?? a.published]
  const [b0, b1] = [b.published, b.publishedEnd ?? b.published]
  if (a1 < b0 || b1 < a0 || (a.protocol ?? "tcp") !== (b.protocol ?? "tcp")) return false
  const [ia, ib] = [a.hostIp ?? "", b.hostIp ?? ""]
  const [fa, fb] = [family(ia), family(ib)]
  if (fa !== fb && fa !== "both" && fb !== "both") return false
  return ia === ib || ANY_ADDRESS.has(ia) || ANY_ADDRESS.has(ib)
}

/** `19810/tcp`, or `127.0.0.1:19810/tcp` when bound to one address. */
export const showPublished = (port: Port): string =>
  `${port.hostIp === undefined ? "" : port.hostIp.includes(":") ? `[${port.hostIp}]:` : `${port.hostIp}:`}${port.published ?? ""}${port.publishedEnd === undefined ? "" : `-${port.publishedEnd}`}/${port.protocol ?? "tcp"}`

export const readPorts = (
  r: Reader,
  node: YNode,
  path: string,
  published?: Array<PublishedPort>
): Array<Port> | undefined => {
  if (node.kind !== "seq") return wrongType(r, node, path, "a list of ports")
  const out: Array<Port> = []
  let ok = true
  const add = (ports: ReadonlyArray<Port>, item: YNode, p: string) => {
    out.push(...ports)
    for (const port of ports) if (port.published !== undefined) published?.push({ port, pos: item.pos, path: p })
  }
  node.items.forEach((item, i) => {
    const p = at(path, i)
    if (item.kind === "map") {
      const ports = longPort(r, item, p)
      if (ports === undefined) ok = false
      else add(ports, item, p)
      return
    }
    const s = text(r, item, p)
    if (s === undefined) {
      ok = false
      return
    }
    const ports = parseShortPort(s)
    if (typeof ports === "string") {
      ok = false
      r.problems.fail(item.pos, p, ports)
    } else add(ports, item, p)
  })
  return ok ? out : undefined
}
