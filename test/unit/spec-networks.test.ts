/**
 * Top-level networks and volumes complete (driver_opts, ipam, attachable, enable_ipv6, the deprecated
 * `external: { name }`), and every attachment option of a service's networks, each wrong value at its line.
 */
import { describe, expect, it } from "vitest"
import { app, errors, FILE, parse, service, warnings } from "../support/compose-parse.ts"

describe("top-level networks", () => {
  it("reads driver_opts, ipam, internal, attachable and enable_ipv6", () => {
    const a = app(`
services:
  s: { image: x }
networks:
  back:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.name: br-back
      com.docker.network.driver.mtu: 1400
    ipam:
      driver: default
      config:
        - subnet: 172.28.0.0/16
          ip_range: 172.28.5.0/24
          gateway: 172.28.5.254
          aux_addresses: { host1: 172.28.1.5 }
        - subnet: fd00:28::/64
      options: { foo: bar }
    internal: false
    attachable: true
    enable_ipv6: "true"
`)
    expect(a.networks).toEqual({
      back: {
        attachable: true,
        driver: "bridge",
        driverOpts: { "com.docker.network.bridge.name": "br-back", "com.docker.network.driver.mtu": "1400" },
        enableIpv6: true,
        internal: false,
        ipam: {
          config: [
            {
              auxAddresses: { host1: "172.28.1.5" },
              gateway: "172.28.5.254",
              ipRange: "172.28.5.0/24",
              subnet: "172.28.0.0/16"
            },
            { subnet: "fd00:28::/64" }
          ],
          driver: "default",
          options: { foo: "bar" }
        }
      }
    })
  })

  it("reads the deprecated external: { name } as Compose does, with a warning", () => {
    const text = `
services:
  s: { image: x }
networks:
  proxy:
    external:
      name: traefik_proxy
volumes:
  media:
    external: { name: shared-media }
`
    const a = app(text)
    expect(a.networks).toEqual({ proxy: { external: true, name: "traefik_proxy" } })
    expect(a.volumes).toEqual({ media: { external: true, name: "shared-media" } })
    expect(warnings(text)).toEqual([
      `${FILE}:7:13: networks.proxy.external.name: "external: { name: traefik_proxy }" is deprecated: write "name: traefik_proxy" and "external: true"`,
      `${FILE}:10:23: volumes.media.external.name: "external: { name: shared-media }" is deprecated: write "name: shared-media" and "external: true"`
    ])
  })

  it("refuses bad ipam values, a conflicting external name and enable_ipv4, each at its line", () => {
    expect(
      errors(`
services:
  s: { image: x }
networks:
  a:
    ipam:
      config:
        - subnet: 172.28.0.0
          gateway: gateway.local
          aux_addresses: { h: nowhere }
          range: 10.0.0.0/8
  b:
    name: other
    external: { name: mine }
  c:
    enable_ipv4: false
`)
    ).toEqual([
      `${FILE}:8:19: networks.a.ipam.config[0].subnet: "172.28.0.0" is not a subnet in CIDR form (e.g. 172.28.0.0/16)`,
      `${FILE}:9:20: networks.a.ipam.config[0].gateway: "gateway.local" is not an IP address`,
      `${FILE}:10:26: networks.a.ipam.config[0].aux_addresses.h: "nowhere" is not an IP address`,
      `${FILE}:11:11: networks.a.ipam.config[0].range: unknown key "ipam.config.range"`,
      `${FILE}:14:23: networks.b.external.name: external.name "mine" conflicts with name "other": keep name only`,
      `${FILE}:16:5: networks.c.enable_ipv4: moor does not support "networks.enable_ipv4": IPv4 is on by default; turning it off needs Docker 28 (engine API 1.47) (see docs/compose-support.md)`
    ])
  })

  it("a network label given twice in a list takes the last value, with a warning", () => {
    const text = "services:\n  s: { image: x }\nnetworks:\n  a:\n    labels: [tier=web, tier=edge]\n"
    expect(app(text).networks).toEqual({ a: { labels: { tier: "edge" } } })
    expect(warnings(text)).toEqual([
      `${FILE}:5:24: networks.a.labels[1]: tier is given twice (also on line 5): the last one is used`
    ])
  })
})

describe("a service's networks", () => {
  const file = (attachment: string) => `
services:
  s:
    image: x
    networks:
${attachment}
networks:
  front: {}
  back: {}
`

  it("reads every attachment option", () => {
    expect(
      service(
        file(`      front:
        aliases: [www]
        ipv4_address: 172.28.0.10
        ipv6_address: fd00:28::10
        link_local_ips: [169.254.8.1]
        mac_address: 02:42:ac:1c:00:0a
        driver_opts: { com.example.opt: 1 }
        priority: 100
        gw_priority: 10
        interface_name: eth-front
      back: null`)
      ).networks
    ).toEqual({
      back: {},
      front: {
        aliases: ["www"],
        driverOpts: { "com.example.opt": "1" },
        gwPriority: 10,
        interfaceName: "eth-front",
        ipv4Address: "172.28.0.10",
        ipv6Address: "fd00:28::10",
        linkLocalIps: ["169.254.8.1"],
        macAddress: "02:42:ac:1c:00:0a",
        priority: 100
      }
    })
  })

  it("refuses malformed addresses and a priority that is not a whole number", () => {
    expect(
      errors(
        file(`      front:
        ipv6_address: not-an-ip
        mac_address: 02:42:ac
        link_local_ips: [169.254.8.1, link]
        priority: high`)
      )
    ).toEqual([
      `${FILE}:7:23: services.s.networks.front.ipv6_address: "not-an-ip" is not an IPv6 address`,
      `${FILE}:8:22: services.s.networks.front.mac_address: "02:42:ac" is not a MAC address (six pairs of hex digits, e.g. 02:42:ac:11:00:02)`,
      `${FILE}:9:25: services.s.networks.front.link_local_ips: "link" is not an IP address`,
      `${FILE}:10:19: services.s.networks.front.priority: expected a number, got the string "high"`
    ])
  })

  it("the parsed file still gives the app when a warning is all there is", () => {
    expect(parse(file("      - front")).problems).toEqual([])
  })
})
