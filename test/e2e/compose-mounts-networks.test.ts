/**
 * Mounts and networks as self-hosting Compose files write them, on each real engine in ENGINES, with
 * the CLI as a real process: a short-syntax bind to a host directory that does not exist is created
 * by the engine and mounted; bind options, tmpfs size and mode, endpoint settings and a network with
 * IPAM pools, driver options, attachable and IPv6 reach the engine as declared; a service using a
 * secret is one skip; a second plan is empty; changing a mount option replaces the container and
 * says why. Each engine gets its own scope, app name, temporary directories and free subnet.
 */
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import Dockerode from "dockerode"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requireFixtures, testEngineA, testEngineCurrent } from "../support/docker-e2e.ts"
import { engineA, engineCurrent } from "../support/env.ts"
import { cleanupEngine, execOut } from "../support/fleet-engines.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import { removeTempDirs, tempDir } from "../support/fleet-spec.ts"

interface Engine {
  /** For test names. */
  readonly name: string
  /** The engine's `unix://` endpoint. */
  readonly dockerHost: string
}

/** The engines this file runs on: add one here and every case runs on it too. */
const ENGINES: ReadonlyArray<Engine> = [
  { name: "A (Docker 20.10, API 1.41)", dockerHost: engineA.DOCKER_HOST },
  { name: "current (Docker 26, API 1.45)", dockerHost: engineCurrent.socket.DOCKER_HOST }
]

const clientFor = (engine: Engine): Dockerode => {
  const url = new URL(engine.dockerHost)
  if (url.protocol !== "unix:") throw new Error(`${engine.name}: only unix:// engines are supported here`)
  return new Dockerode({ socketPath: url.pathname })
}

/** A /24 in 10.77.0.0/16 (outside the engine's default address pools) and a /64 that no network uses. */
const freeSubnets = async (
  docker: Dockerode
): Promise<{ readonly v4: string; readonly v6: string; readonly n: number }> => {
  const used = new Set((await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "")))
  for (let tries = 0; tries < 256; tries++) {
    const n = randomBytes(1)[0] ?? 0
    const v4 = `10.77.${n}.0/24`
    const v6 = `fd00:6d6f:${n.toString(16)}::/64`
    if (![...used].some((s) => s.startsWith(`10.77.${n}.`) || s === v6)) return { v4, v6, n }
  }
  throw new Error("no free /24 in 10.77.0.0/16 on the engine")
}

describe.each(ENGINES)("Compose mounts and networks on engine $name", (engine) => {
  const docker = clientFor(engine)
  const tok = randomBytes(3).toString("hex")
  const scope = `mounts-${tok}`
  const appName = `mn${tok}`
  const root = tempDir("mounts")
  const hostDir = join(tempDir("mounts-host"), "docker-volumes", appName)
  const existing = join(tempDir("mounts-existing"), "conf")
  const env = cliEnv(`sqlite:${join(root, "state.db")}`)
  let subnet: { readonly v4: string; readonly v6: string; readonly n: number }

  const writeCompose = (tmpfsSize: string, attachable = true) => {
    mkdirSync(join(root, appName), { recursive: true })
    writeFileSync(
      join(root, "moor.yaml"),
      `scope: ${scope}\nhosts:\n  - name: local\n    engine: ${engine.dockerHost}\n`
    )
    writeFileSync(
      join(root, appName, "compose.yaml"),
      `services:
  web:
    image: moor-fixture/app:1
    environment:
      - MODE=one
      - MODE=two
    volumes:
      - ${hostDir}/config:/config
      - ${existing}:/existing:ro,z,private
      - type: bind
        source: ${existing}
        target: /strict
        bind: { create_host_path: false, propagation: private }
      - type: tmpfs
        target: /run/app
        tmpfs: { size: ${tmpfsSize}, mode: 0700 }
      - data:/data:nocopy
    networks:
      back:
        priority: 10
        ipv4_address: 10.77.${subnet.n}.10
        mac_address: 02:42:ac:1d:${subnet.n.toString(16).padStart(2, "0")}:0a
        aliases: [www]
      default: {}
  worker:
    image: moor-fixture/app:1
    secrets: [api_token]
networks:
  back:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.enable_icc: "true"
    ipam:
      config:
        - subnet: ${subnet.v4}
          gateway: 10.77.${subnet.n}.1
        - subnet: ${subnet.v6}
    attachable: ${attachable}
    enable_ipv6: true
volumes:
  data: {}
secrets:
  api_token:
    file: ./token.txt
`
    )
  }

  const inspectWeb = () => docker.getContainer(`${appName}-web-1`).inspect()

  beforeAll(async () => {
    await requireFixtures(engine.dockerHost === testEngineCurrent.endpoint ? testEngineCurrent : testEngineA)
    await cleanupEngine(docker, scope)
    mkdirSync(existing, { recursive: true })
    writeFileSync(join(existing, "app.conf"), "from the host\n")
    subnet = await freeSubnets(docker)
    writeCompose("1m")
  })
  afterAll(async () => {
    await cleanupEngine(docker, scope)
    removeTempDirs()
  })

  it("plans with the spec's warnings, one skip for the service that uses a secret, and applies", async () => {
    expect(existsSync(hostDir)).toBe(false)
    const plan = await moor(env, "plan", root)
    expect(plan.stderr).toContain(
      `${appName}/compose.yaml:6:9: services.web.environment[1]: MODE is given twice (also on line 5): the last one is used`
    )
    expect(plan.stdout).toContain(
      `! skip ${appName}/worker (configs/secrets are not applied yet: the service uses secret api_token; until moor mounts them, mount the files with volumes:)`
    )
    const apply = await moor(env, "apply", root)
    expect(apply.stdout).toMatch(/Apply complete: 5 done, 0 failed, 1 skipped/)
    expect(apply.code).toBe(0)
    const web = await inspectWeb()
    expect(web.State.Running).toBe(true)
    expect((await docker.listContainers({ all: true, filters: { label: [`moor.scope=${scope}`] } })).length).toBe(1)
  })

  it("a short-syntax bind to a missing host directory is created by the engine and mounted", async () => {
    expect(statSync(join(hostDir, "config")).isDirectory()).toBe(true)
    await execOut(docker, `${appName}-web-1`, ["sh", "-c", "echo written-inside > /config/probe"])
    expect(existsSync(join(hostDir, "config", "probe"))).toBe(true)
    const web = await inspectWeb()
    expect(web.Mounts.find((m) => m.Destination === "/config")).toMatchObject({
      Type: "bind",
      Source: join(hostDir, "config"),
      RW: true
    })
  })

  it("bind options, tmpfs size and mode, and nocopy show in docker inspect", async () => {
    const web = await inspectWeb()
    const hc = web.HostConfig as unknown as {
      Binds: Array<string>
      Mounts: Array<Record<string, unknown>>
    }
    expect(hc.Binds).toEqual(expect.arrayContaining([`${existing}:/existing:ro,z,private`]))
    expect(web.Mounts.find((m) => m.Destination === "/existing")).toMatchObject({
      Type: "bind",
      RW: false,
      Propagation: "private"
    })
    expect(hc.Mounts).toEqual(
      expect.arrayContaining([
        { Type: "bind", Source: existing, Target: "/strict", BindOptions: { Propagation: "private" } },
        { Type: "tmpfs", Target: "/run/app", TmpfsOptions: { SizeBytes: 1024 * 1024, Mode: 0o700 } },
        {
          Type: "volume",
          Source: `${appName}_data`,
          Target: "/data",
          VolumeOptions: { NoCopy: true }
        }
      ])
    )
    expect(await execOut(docker, `${appName}-web-1`, ["cat", "/strict/app.conf"])).toContain("from the host")
    const tmpfs = await execOut(docker, `${appName}-web-1`, [
      "sh",
      "-c",
      "stat -c %a /run/app; df -k /run/app | tail -1"
    ])
    expect(tmpfs).toMatch(/^700\n/)
    expect(tmpfs).toMatch(/\s1024\s/)
    expect(web.Config.Env).toContain("MODE=two")
  })

  it("the network is created as declared, and the container joins it first with its address", async () => {
    const net = await docker.getNetwork(`${appName}_back`).inspect()
    expect(net).toMatchObject({
      Driver: "bridge",
      Attachable: true,
      EnableIPv6: true,
      Options: { "com.docker.network.bridge.enable_icc": "true" },
      IPAM: {
        Config: [{ Subnet: subnet.v4, Gateway: `10.77.${subnet.n}.1` }, { Subnet: subnet.v6 }]
      },
      Labels: { "moor.scope": scope, "moor.app": appName }
    })
    const web = await inspectWeb()
    expect(web.HostConfig.NetworkMode).toBe(`${appName}_back`)
    const back = web.NetworkSettings.Networks[`${appName}_back`]
    expect(back?.IPAddress).toBe(`10.77.${subnet.n}.10`)
    expect(back?.MacAddress).toBe(`02:42:ac:1d:${subnet.n.toString(16).padStart(2, "0")}:0a`)
    expect(back?.Aliases).toEqual(expect.arrayContaining(["web", "www"]))
    expect(Object.keys(web.NetworkSettings.Networks).sort()).toEqual([`${appName}_back`, `${appName}_default`])
  })

  it("a second plan has nothing to change, and finds the network as declared", async () => {
    const plan = await moor(env, "plan", root, "--detailed-exitcode")
    // Nothing to change; the worker that uses a secret is still left alone, so not in sync (2).
    expect(plan.stdout).toContain("No changes. 1 skipped.")
    expect(plan.stdout).not.toContain("warning:")
    expect(plan.code).toBe(2)
  })

  it("a network whose settings differ from the spec is a warning saying what differs; it is not recreated", async () => {
    const id = (await docker.getNetwork(`${appName}_back`).inspect()).Id
    writeCompose("1m", false)
    const plan = await moor(env, "plan", root, "--detailed-exitcode")
    expect(plan.stdout).toContain(
      `warning: network ${appName}_back on host local differs from the spec of ${appName} (attachable true -> false): moor does not recreate a network`
    )
    expect(plan.code).toBe(2)
    await moor(env, "apply", root)
    expect((await docker.getNetwork(`${appName}_back`).inspect()).Id).toBe(id)
    writeCompose("1m")
  })

  it("changing a mount option replaces the container, with a reason naming the mounts", async () => {
    const before = (await inspectWeb()).Id
    writeCompose("2m")
    const plan = await moor(env, "plan", root)
    // A writable bind: the old container stops before the new one starts.
    expect(plan.stdout).toContain(`~ recreate ${appName}-web-1 (volumes changed)\n      strategy: stop-first`)
    await moor(env, "apply", root)
    const web = await inspectWeb()
    expect(web.Id).not.toBe(before)
    expect((web.HostConfig as unknown as { Mounts: Array<Record<string, unknown>> }).Mounts).toEqual(
      expect.arrayContaining([
        { Type: "tmpfs", Target: "/run/app", TmpfsOptions: { SizeBytes: 2 * 1024 * 1024, Mode: 0o700 } }
      ])
    )
    expect((await moor(env, "plan", root, "--detailed-exitcode")).stdout).toContain("No changes. 1 skipped.")
  })
})
