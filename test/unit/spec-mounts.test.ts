/**
 * A service's `volumes:` as Compose reads them: every short-syntax mode Compose accepts, the long
 * syntax's bind, volume and tmpfs options, options that do not apply to a type (a warning, as in
 * Compose), and what stays refused, each with its line.
 */
import { describe, expect, it } from "vitest"
import { errors, FILE, service, warnings } from "../support/compose-parse.ts"

const file = (volumes: string, top = "volumes: { data: {} }\n") =>
  `services:\n  s:\n    image: x\n    volumes:\n${volumes}${top}`
const mountsOf = (volumes: string) => service(file(volumes)).mounts

describe("short syntax", () => {
  it("reads every mode Compose accepts", () => {
    expect(
      mountsOf(`      - ./conf:/etc/app:ro,z
      - /srv/a:/a:Z,rshared
      - /srv/b:/b:rslave,rw
      - /srv/c:/c:cached
      - /srv/d:/d:delegated,ro
      - /srv/e:/e:consistent
      - /srv/f:/f:private
      - /srv/g:/g:shared
      - /srv/h:/h:slave
      - /srv/i:/i:rprivate
      - data:/data:nocopy
      - data:/data2:ro,nocopy,z
`)
    ).toEqual([
      { type: "bind", source: "/srv/shop/web/conf", target: "/etc/app", readOnly: true, selinux: "z" },
      { type: "bind", source: "/srv/a", target: "/a", selinux: "Z", propagation: "rshared" },
      { type: "bind", source: "/srv/b", target: "/b", propagation: "rslave" },
      { type: "bind", source: "/srv/c", target: "/c" },
      { type: "bind", source: "/srv/d", target: "/d", readOnly: true },
      { type: "bind", source: "/srv/e", target: "/e" },
      { type: "bind", source: "/srv/f", target: "/f", propagation: "private" },
      { type: "bind", source: "/srv/g", target: "/g", propagation: "shared" },
      { type: "bind", source: "/srv/h", target: "/h", propagation: "slave" },
      { type: "bind", source: "/srv/i", target: "/i", propagation: "rprivate" },
      { type: "volume", source: "data", target: "/data", noCopy: true },
      { type: "volume", source: "data", target: "/data2", readOnly: true, noCopy: true, selinux: "z" }
    ])
  })

  it("a bind creates its missing host path by default (nothing says otherwise in the model)", () => {
    expect(mountsOf("      - /mnt/docker-volumes/app/config:/config\n")).toEqual([
      { type: "bind", source: "/mnt/docker-volumes/app/config", target: "/config" }
    ])
  })

  it("the last of contradicting modes wins, as in Compose", () => {
    expect(mountsOf("      - /srv/a:/a:ro,rw\n      - /srv/b:/b:rw,ro,slave,rslave\n")).toEqual([
      { type: "bind", source: "/srv/a", target: "/a" },
      { type: "bind", source: "/srv/b", target: "/b", readOnly: true, propagation: "rslave" }
    ])
  })

  it("an option for another type is ignored with a warning at its line", () => {
    const text = file("      - /srv/a:/a:nocopy\n      - data:/data:rslave\n")
    expect(service(text).mounts).toEqual([
      { type: "bind", source: "/srv/a", target: "/a" },
      { type: "volume", source: "data", target: "/data" }
    ])
    expect(warnings(text)).toEqual([
      `${FILE}:5:9: services.s.volumes[0]: "nocopy" applies to volumes; it is ignored for a bind mount`,
      `${FILE}:6:9: services.s.volumes[1]: propagation "rslave" applies to bind mounts; it is ignored for a volume`
    ])
  })

  it("refuses an unknown mode, naming the ones it takes", () => {
    expect(errors(file("      - /srv/a:/a:ro,rshard\n"))).toEqual([
      `${FILE}:5:9: services.s.volumes[0]: volume option "rshard" is not one of ro, rw, z, Z, nocopy, rprivate, private, rshared, shared, rslave, slave, cached, delegated, consistent`
    ])
  })
})

describe("long syntax", () => {
  it("reads the bind, volume and tmpfs options", () => {
    expect(
      mountsOf(`      - type: bind
        source: /srv/a
        target: /a
        bind: { propagation: rslave, create_host_path: false }
      - type: bind
        source: ./b
        target: /b
        read_only: true
        consistency: cached
        bind: { selinux: Z, create_host_path: true }
      - type: volume
        source: data
        target: /data
        volume: { nocopy: true, subpath: app/data }
      - type: tmpfs
        target: /run/app
        tmpfs: { size: 64m, mode: 0700 }
      - type: tmpfs
        target: /run/b
        tmpfs: { size: 1024, mode: "1777" }
      - type: tmpfs
        target: /run/c
        tmpfs: { size: 0 }
`)
    ).toEqual([
      { type: "bind", source: "/srv/a", target: "/a", propagation: "rslave", createHostPath: false },
      { type: "bind", source: "/srv/shop/web/b", target: "/b", readOnly: true, selinux: "Z", createHostPath: true },
      { type: "volume", source: "data", target: "/data", noCopy: true, subpath: "app/data" },
      { type: "tmpfs", target: "/run/app", sizeBytes: 64 * 1024 * 1024, mode: 0o700 },
      { type: "tmpfs", target: "/run/b", sizeBytes: 1024, mode: 0o1777 },
      { type: "tmpfs", target: "/run/c" }
    ])
  })

  it("options for another type are ignored with a warning, as Compose does", () => {
    const text = file(`      - type: volume
        source: data
        target: /data
        bind: { propagation: rshared }
      - type: tmpfs
        target: /t
        volume: { nocopy: true }
`)
    expect(service(text).mounts).toEqual([
      { type: "volume", source: "data", target: "/data" },
      { type: "tmpfs", target: "/t" }
    ])
    expect(warnings(text)).toEqual([
      `${FILE}:8:9: services.s.volumes[0].bind: bind options apply to a mount of type bind; they are ignored for type volume`,
      `${FILE}:11:9: services.s.volumes[1].volume: volume options apply to a mount of type volume; they are ignored for type tmpfs`
    ])
  })

  it("refuses wrong values and what the engine cannot do, each at its line", () => {
    expect(
      errors(
        file(`      - type: bind
        source: /a
        target: /a
        bind: { propagation: sideways, recursive: disabled }
      - type: tmpfs
        target: /t
        tmpfs: { mode: 0999, size: lots }
      - type: bind
        source: /b
        target: /b
        bind: { selinux: z, create_host_path: false }
      - type: volume
        source: data
        target: /v
        volume: { labels: { a: b } }
`)
      )
    ).toEqual([
      `${FILE}:8:30: services.s.volumes[0].bind.propagation: propagation "sideways" is not one of rprivate, private, rshared, shared, rslave, slave`,
      `${FILE}:8:40: services.s.volumes[0].bind.recursive: moor does not support "volumes.bind.recursive": bind mounts are recursive; remove it (see docs/compose-support.md)`,
      `${FILE}:11:24: services.s.volumes[1].tmpfs.mode: "0999" is not a file mode: write it in octal, e.g. 0755 or 1777`,
      `${FILE}:11:36: services.s.volumes[1].tmpfs.size: "lots" is not a size: expected e.g. 512m, 1g, 64k or a number of bytes`,
      `${FILE}:12:9: services.s.volumes[2]: SELinux relabelling (z) of a bind needs create_host_path (the engine relabels only binds it may create): drop create_host_path: false or selinux`,
      `${FILE}:19:19: services.s.volumes[3].volume.labels: moor does not support "volumes.volume.labels": label the volume in the top-level volumes instead (see docs/compose-support.md)`
    ])
  })
})
