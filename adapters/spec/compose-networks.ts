/** A service's `networks`: a list of names, or a mapping of name -> attachment options (the model's `ServiceNetwork`). */
import { at } from "./problems.ts"
import { stringMap } from "./compose-top-level.ts"
import { int, isNull, map, type Reader, readKeys, sorted, strings, text } from "./reader.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/
const IP = /^[0-9a-fA-F:.]+$/

export const serviceNetworks = (
  r: Reader,
  node: YNode,
  path: string,
  declared: ReadonlySet<string>
): Record<string, Record<string, unknown>> | undefined => {
  const out: Array<readonly [string, Record<string, unknown>]> = []
  const check = (name: string, n: YNode, p: string): boolean => {
    if (name === "default" || declared.has(name)) return true
    r.problems.fail(
      n.pos,
      p,
      `network "${name}" is not declared in the top-level networks; add "networks: { ${name}: {} }"`
    )
    return false
  }
  if (node.kind === "seq") {
    node.items.forEach((item, i) => {
      const name = text(r, item, at(path, i))
      if (name !== undefined && check(name, item, at(path, i))) out.push([name, {}])
    })
    return sorted(out)
  }
  const m = map(r, node, path)
  if (m === undefined) return undefined
  for (const entry of m.entries) {
    const p = at(path, entry.key)
    if (!check(entry.key, entry.value, p)) continue
    if (isNull(entry.value)) {
      out.push([entry.key, {}])
      continue
    }
    const opts = map(r, entry.value, p)
    if (opts === undefined) continue
    const attachment: Record<string, unknown> = {}
    const set = (key: string, read: (r: Reader, n: YNode, p: string) => unknown) => (e: YEntry, pp: string) => {
      const v = read(r, e.value, pp)
      if (v !== undefined) attachment[key] = v
    }
    const address = (pattern: RegExp, what: string) => (rr: Reader, n: YNode, pp: string) => {
      const v = text(rr, n, pp)
      return v === undefined || pattern.test(v) ? v : rr.problems.fail(n.pos, pp, `"${v}" is not ${what}`)
    }
    readKeys(r, opts, p, {
      prefix: "networks.",
      read: {
        aliases: set("aliases", strings),
        ipv4_address: set("ipv4Address", address(IP, "an IPv4 address")),
        ipv6_address: set("ipv6Address", address(IP, "an IPv6 address")),
        link_local_ips: set("linkLocalIps", (rr, n, pp) => {
          const ips = strings(rr, n, pp)
          const bad = ips?.find((ip) => !IP.test(ip))
          return bad === undefined ? ips : rr.problems.fail(n.pos, pp, `"${bad}" is not an IP address`)
        }),
        mac_address: set("macAddress", address(MAC, "a MAC address (six pairs of hex digits, e.g. 02:42:ac:11:00:02)")),
        driver_opts: set("driverOpts", stringMap),
        priority: set("priority", int),
        gw_priority: set("gwPriority", int),
        interface_name: set("interfaceName", text)
      }
    })
    out.push([entry.key, sorted(Object.entries(attachment))])
  }
  return sorted(out)
}
