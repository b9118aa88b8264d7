/**
 * The top-level `networks` and `volumes` of a Compose file: key -> options, as the model's `Network`
 * and `Volume` (plain objects, keys sorted). `external: { name }` is read as Compose reads it, with a
 * warning that it is deprecated.
 */
import { at } from "./problems.ts"
import { bool, isNull, listOrDict, map, type Reader, readKeys, seq, sorted, text } from "./reader.ts"
import type { YEntry, YMap, YNode } from "./yaml-tree.ts"

const KEY_NAME = /^[a-zA-Z0-9._-]+$/
const CIDR = /^[0-9a-fA-F:.]+\/\d{1,3}$/
const IP = /^[0-9a-fA-F:.]+$/

/**
 * Each entry of a top-level mapping of named objects (networks, volumes, configs, secrets) that is
 * not an `x-` extension: its key checked, its options as a mapping (null: none).
 */
export const namedEntries = (
  r: Reader,
  node: YNode,
  path: string,
  kind: string,
  each: (key: string, options: YMap | undefined, path: string, entry: YEntry) => void
): void => {
  const m = map(r, node, path)
  if (m === undefined) return
  for (const entry of m.entries) {
    if (entry.key.startsWith("x-")) continue
    const p = at(path, entry.key)
    if (!KEY_NAME.test(entry.key)) {
      r.problems.fail(entry.keyPos, p, `"${entry.key}" is not a valid ${kind} key (letters, digits, '.', '_', '-')`)
      continue
    }
    if (isNull(entry.value)) {
      each(entry.key, undefined, p, entry)
      continue
    }
    const options = map(r, entry.value, p)
    if (options !== undefined) each(entry.key, options, p, entry)
  }
}

/** A map of strings from a list or a mapping, keys sorted; in a list, the last of duplicates wins (warning), as in Compose. */
export const stringMap = (r: Reader, node: YNode, path: string): Record<string, string> | undefined => {
  const kvs = listOrDict(r, node, path, "=", "last")
  return kvs === undefined ? undefined : sorted(kvs.map((kv) => [kv.key, kv.value ?? ""] as const))
}

const checked = (r: Reader, node: YNode, path: string, pattern: RegExp, what: string): string | undefined => {
  const v = text(r, node, path)
  if (v === undefined || pattern.test(v)) return v
  return r.problems.fail(node.pos, path, `"${v}" is not ${what}`)
}

const ipamPool = (r: Reader, node: YNode, path: string) => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: Record<string, unknown> = {}
  readKeys(r, m, path, {
    prefix: "ipam.config.",
    read: {
      subnet: (e, p) => {
        const v = checked(r, e.value, p, CIDR, "a subnet in CIDR form (e.g. 172.28.0.0/16)")
        if (v !== undefined) out.subnet = v
      },
      ip_range: (e, p) => {
        const v = checked(r, e.value, p, CIDR, "an address range in CIDR form (e.g. 172.28.5.0/24)")
        if (v !== undefined) out.ipRange = v
      },
      gateway: (e, p) => {
        const v = checked(r, e.value, p, IP, "an IP address")
        if (v !== undefined) out.gateway = v
      },
      aux_addresses: (e, p) => {
        const v = stringMap(r, e.value, p)
        if (v === undefined) return
        for (const [host, ip] of Object.entries(v))
          if (!IP.test(ip)) r.problems.fail(e.value.pos, at(p, host), `"${ip}" is not an IP address`)
        out.auxAddresses = v
      }
    }
  })
  return sorted(Object.entries(out))
}

const ipam = (r: Reader, node: YNode, path: string) => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: Record<string, unknown> = {}
  readKeys(r, m, path, {
    prefix: "ipam.",
    read: {
      driver: (e, p) => {
        const v = text(r, e.value, p)
        if (v !== undefined) out.driver = v
      },
      config: (e, p) => {
        const list = seq(r, e.value, p)
        if (list === undefined) return
        const pools = list.items.map((item, i) => ipamPool(r, item, at(p, i)))
        if (pools.every((x) => x !== undefined)) out.config = pools
      },
      options: (e, p) => {
        const v = stringMap(r, e.value, p)
        if (v !== undefined) out.options = v
      }
    }
  })
  return sorted(Object.entries(out))
}

/** Top-level `volumes` or `networks`: key -> options (null means defaults). */
export const readTopLevel = (r: Reader, node: YNode, path: string, kind: "volume" | "network") => {
  const out: Array<readonly [string, Record<string, unknown>]> = []
  namedEntries(r, node, path, kind, (key, opts, p) => {
    const o: Record<string, unknown> = {}
    if (opts === undefined) {
      out.push([key, o])
      return
    }
    const set = (name: string, read: (r: Reader, n: YNode, p: string) => unknown) => (e: YEntry, pp: string) => {
      const v = read(r, e.value, pp)
      if (v !== undefined) o[name] = v
    }
    let externalName: { readonly name: string; readonly node: YNode; readonly path: string } | undefined
    const common = {
      name: set("name", text),
      driver: set("driver", text),
      driver_opts: set("driverOpts", stringMap),
      external: (e: YEntry, pp: string) => {
        if (e.value.kind !== "map") return set("external", bool)(e, pp)
        readKeys(r, e.value, pp, {
          prefix: "external.",
          read: {
            name: (n, np) => {
              const v = text(r, n.value, np)
              if (v !== undefined) externalName = { name: v, node: n.value, path: np }
            }
          }
        })
        o.external = true
      }
    }
    if (kind === "volume") {
      readKeys(r, opts, p, { prefix: "volumes.", read: { ...common, labels: set("labels", stringMap) } })
    } else {
      readKeys(r, opts, p, {
        prefix: "networks.",
        read: {
          ...common,
          labels: set("labels", stringMap),
          ipam: set("ipam", ipam),
          internal: set("internal", bool),
          attachable: set("attachable", bool),
          enable_ipv6: set("enableIpv6", bool)
        },
        unsupported: { enable_ipv4: "IPv4 is on by default; turning it off needs Docker 28 (engine API 1.47)" }
      })
    }
    if (externalName !== undefined) {
      const { name, node: at_, path: ap } = externalName
      if (o.name !== undefined && o.name !== name) {
        r.problems.fail(at_.pos, ap, `external.name "${name}" conflicts with name "${String(o.name)}": keep name only`)
      } else {
        r.problems.warn(
          at_.pos,
          ap,
          `"external: { name: ${name} }" is deprecated: write "name: ${name}" and "external: true"`
        )
        o.name = name
      }
    }
    out.push([key, sorted(Object.entries(o))])
  })
  return sorted(out)
}
