/**
 * The bodies moor sends to the engine for mounts, network attachments and networks: binds that may
 * create their host path go in `Binds` (the engine creates the directory on its own host, as
 * Compose does); every other option lands in the field the engine API reads it from.
 */
import { describe, expect, it } from "vitest"
import { createBody, networkBody } from "../../adapters/docker/create-body.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"

const config = (extra: Partial<ContainerConfig>): ContainerConfig => ({
  name: "shop-web-1",
  image: "moor-fixture/app:1",
  env: [],
  labels: {},
  ports: [],
  mounts: [],
  networks: [],
  ...extra
})

describe("create body: mounts", () => {
  it("a plain bind goes in Binds, so the engine creates a missing host path; volumes and tmpfs stay in Mounts", () => {
    const { body } = createBody(
      config({
        mounts: [
          { type: "bind", source: "/srv/conf", target: "/etc/app", readOnly: true },
          { type: "bind", source: "/srv/data", target: "/data", readOnly: false },
          { type: "volume", source: "shop_db", target: "/var/lib/db", readOnly: false },
          { type: "volume", target: "/anon", readOnly: false },
          { type: "tmpfs", target: "/scratch", readOnly: false }
        ]
      })
    )
    expect(body.HostConfig.Binds).toEqual(["/srv/conf:/etc/app:ro", "/srv/data:/data:rw"])
    expect(body.HostConfig.Mounts).toEqual([
      { Type: "volume", Source: "shop_db", Target: "/var/lib/db", ReadOnly: false },
      { Type: "volume", Target: "/anon", ReadOnly: false },
      { Type: "tmpfs", Target: "/scratch", ReadOnly: false }
    ])
  })

  it("bind options: SELinux and propagation in the bind string; create_host_path false uses Mounts with BindOptions", () => {
    const { body } = createBody(
      config({
        mounts: [
          { type: "bind", source: "/srv/a", target: "/a", readOnly: true, selinux: "z", propagation: "rslave" },
          { type: "bind", source: "/srv/b", target: "/b", readOnly: false, createHostPath: false },
          {
            type: "bind",
            source: "/srv/c",
            target: "/c",
            readOnly: false,
            createHostPath: false,
            propagation: "shared"
          }
        ]
      })
    )
    expect(body.HostConfig.Binds).toEqual(["/srv/a:/a:ro,z,rslave"])
    expect(body.HostConfig.Mounts).toEqual([
      { Type: "bind", Source: "/srv/b", Target: "/b", ReadOnly: false },
      { Type: "bind", Source: "/srv/c", Target: "/c", ReadOnly: false, BindOptions: { Propagation: "shared" } }
    ])
  })

  it("volume options: nocopy and subpath in VolumeOptions; a relabelled named volume goes in Binds", () => {
    const { body } = createBody(
      config({
        mounts: [
          { type: "volume", source: "shop_data", target: "/data", readOnly: false, noCopy: true, subpath: "app" },
          { type: "volume", target: "/anon", readOnly: false, noCopy: true },
          { type: "volume", source: "shop_media", target: "/media", readOnly: false, selinux: "Z", noCopy: true }
        ]
      })
    )
    expect(body.HostConfig.Mounts).toEqual([
      {
        Type: "volume",
        Source: "shop_data",
        Target: "/data",
        ReadOnly: false,
        VolumeOptions: { NoCopy: true, Subpath: "app" }
      },
      { Type: "volume", Target: "/anon", ReadOnly: false, VolumeOptions: { NoCopy: true } }
    ])
    expect(body.HostConfig.Binds).toEqual(["shop_media:/media:rw,Z,nocopy"])
  })

  it("a path with a colon, which the bind form cannot hold, goes in Mounts", () => {
    const { body } = createBody(
      config({ mounts: [{ type: "bind", source: "/srv/a:b", target: "/a", readOnly: false }] })
    )
    expect(body.HostConfig.Binds).toBeUndefined()
    expect(body.HostConfig.Mounts).toEqual([{ Type: "bind", Source: "/srv/a:b", Target: "/a", ReadOnly: false }])
  })

  it("tmpfs size and mode in TmpfsOptions", () => {
    const { body } = createBody(
      config({ mounts: [{ type: "tmpfs", target: "/run/app", readOnly: false, sizeBytes: 65536, mode: 0o700 }] })
    )
    expect(body.HostConfig.Mounts).toEqual([
      { Type: "tmpfs", Target: "/run/app", ReadOnly: false, TmpfsOptions: { SizeBytes: 65536, Mode: 0o700 } }
    ])
    expect(body.HostConfig.Binds).toBeUndefined()
  })
})

describe("create body: network attachments", () => {
  it("every endpoint setting reaches the primary network at create and the others at connect", () => {
    const { body, connect } = createBody(
      config({
        networks: [
          {
            name: "shop_front",
            aliases: ["web"],
            ipv4Address: "172.30.0.10",
            ipv6Address: "fd00:30::10",
            linkLocalIps: ["169.254.1.1"],
            macAddress: "02:42:ac:1e:00:0a",
            driverOpts: { "com.example.opt": "1" },
            interfaceName: "eth-front"
          },
          { name: "shop_back", aliases: ["web"], macAddress: "02:42:ac:1f:00:0a", gwPriority: 10 }
        ]
      })
    )
    expect(body.NetworkingConfig?.EndpointsConfig).toEqual({
      shop_front: {
        Aliases: ["web"],
        IPAMConfig: { IPv4Address: "172.30.0.10", IPv6Address: "fd00:30::10", LinkLocalIPs: ["169.254.1.1"] },
        MacAddress: "02:42:ac:1e:00:0a",
        DriverOpts: { "com.example.opt": "1", "com.docker.network.endpoint.ifname": "eth-front" }
      }
    })
    // Engines before API 1.44 read the primary network's MAC address only from the container.
    expect(body.MacAddress).toBe("02:42:ac:1e:00:0a")
    expect(connect).toEqual([
      { network: "shop_back", endpoint: { Aliases: ["web"], MacAddress: "02:42:ac:1f:00:0a", GwPriority: 10 } }
    ])
  })

  it("an attachment with only aliases sends only aliases, as before", () => {
    const { body } = createBody(config({ networks: [{ name: "shop_default", aliases: ["web"] }] }))
    expect(body.NetworkingConfig?.EndpointsConfig).toEqual({ shop_default: { Aliases: ["web"] } })
    expect(body.MacAddress).toBeUndefined()
  })
})

describe("network create body", () => {
  it("carries driver options, IPAM pools, attachable, IPv6 and the labels", () => {
    expect(
      networkBody({
        name: "shop_back",
        driver: "bridge",
        driverOpts: { "com.docker.network.bridge.name": "br-shop" },
        ipam: {
          config: [
            {
              subnet: "172.31.0.0/24",
              gateway: "172.31.0.1",
              ipRange: "172.31.0.128/25",
              auxAddresses: { r: "172.31.0.2" }
            },
            { subnet: "fd00:31::/64" }
          ],
          options: { foo: "bar" }
        },
        internal: true,
        attachable: true,
        enableIpv6: true,
        labels: { "moor.scope": "s" }
      })
    ).toEqual({
      Name: "shop_back",
      CheckDuplicate: true,
      Driver: "bridge",
      Options: { "com.docker.network.bridge.name": "br-shop" },
      IPAM: {
        Driver: "default",
        Config: [
          {
            Subnet: "172.31.0.0/24",
            IPRange: "172.31.0.128/25",
            Gateway: "172.31.0.1",
            AuxiliaryAddresses: { r: "172.31.0.2" }
          },
          { Subnet: "fd00:31::/64" }
        ],
        Options: { foo: "bar" }
      },
      Internal: true,
      Attachable: true,
      EnableIPv6: true,
      Labels: { "moor.scope": "s" }
    })
  })

  it("a network declared with nothing but labels sends nothing else", () => {
    expect(networkBody({ name: "shop_default", labels: { a: "b" } })).toEqual({
      Name: "shop_default",
      CheckDuplicate: true,
      Labels: { a: "b" }
    })
  })
})
