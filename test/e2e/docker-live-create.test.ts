/**
 * Every field of a `ContainerConfig` reaches the engine as intended: created through the live
 * adapter, read back with a raw inspect, then started (the engine validates some fields only then).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ContainerConfig } from "../../core/model/plan.ts"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { baseConfig, cleanupScope, newScope, raw, requireFixtures } from "../support/docker-e2e.ts"

const scope = newScope()
beforeAll(() => requireFixtures())
afterAll(() => cleanupScope(scope))

const MiB = 1024 * 1024

describe("DockerLive createContainer", () => {
  it.live("translates every field of the config into the engine's create body", () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const labels = { "moor.scope": scope }
      yield* docker.createVolume("local", { name: `${scope}_vol`, labels })
      yield* docker.createNetwork("local", { name: `${scope}_net`, labels, driver: "bridge" })
      yield* docker.createNetwork("local", {
        name: `${scope}_internal`,
        labels: { ...labels, tier: "db" },
        internal: true
      })
      const internal = yield* Effect.promise(() => raw.getNetwork(`${scope}_internal`).inspect())
      expect(internal).toMatchObject({ Internal: true, Driver: "bridge", Labels: { tier: "db" } })
      const config: ContainerConfig = {
        ...baseConfig(scope, `${scope}-full-1`, "moor-fixture/app:1"),
        entrypoint: ["/bin/sh", "-c"],
        command: ["exec /bin/moor-app"],
        env: [
          ["A", "1"],
          ["EMPTY", ""],
          ["WITH_EQ", "x=y"]
        ],
        labels: { ...labels, "moor.app": "full", "com.example": "yes" },
        ports: [
          { target: 8080, protocol: "tcp" },
          { target: 9000, hostIp: "127.0.0.1", protocol: "udp" }
        ],
        mounts: [
          { type: "volume", source: `${scope}_vol`, target: "/data", readOnly: false },
          { type: "bind", source: "/etc/hostname", target: "/host-hostname", readOnly: true },
          { type: "tmpfs", target: "/scratch", readOnly: false }
        ],
        networks: [{ name: `${scope}_net`, aliases: ["full", "f"] }],
        healthcheck: {
          test: ["CMD-SHELL", "true"],
          intervalMs: 2_000,
          timeoutMs: 1_500,
          startPeriodMs: 3_000,
          retries: 4
        },
        restart: "on-failure",
        user: "0:0",
        workingDir: "/tmp",
        hostname: "fullhost",
        init: true,
        stopSignal: "SIGINT",
        stopGracePeriodMs: 2_500,
        extraHosts: ["db.internal:10.1.2.3"],
        capAdd: ["NET_ADMIN"],
        capDrop: ["MKNOD"],
        readOnly: true,
        tmpfs: ["/run:size=1m", "/var/cache"],
        resources: { cpus: 0.5, memoryBytes: 64 * MiB, memoryReservationBytes: 32 * MiB, pids: 100 }
      }
      const id = yield* docker.createContainer("local", config)
      const c = yield* Effect.promise(() => raw.getContainer(id).inspect())
      expect(c.Name).toBe(`/${scope}-full-1`)
      expect(c.Config.Entrypoint).toEqual(["/bin/sh", "-c"])
      expect(c.Config.Cmd).toEqual(["exec /bin/moor-app"])
      expect(c.Config.Env).toEqual(expect.arrayContaining(["A=1", "EMPTY=", "WITH_EQ=x=y"]))
      expect(c.Config.Labels).toMatchObject({ "moor.app": "full", "com.example": "yes", "moor.scope": scope })
      expect(Object.keys(c.Config.ExposedPorts ?? {}).sort()).toEqual(["8080/tcp", "9000/udp"])
      expect(c.Config.Healthcheck).toEqual({
        Test: ["CMD-SHELL", "true"],
        Interval: 2_000_000_000,
        Timeout: 1_500_000_000,
        StartPeriod: 3_000_000_000,
        Retries: 4
      })
      const stop = c.Config as { StopSignal?: string; StopTimeout?: number }
      expect(stop.StopSignal).toBe("SIGINT")
      expect(stop.StopTimeout).toBe(3)
      expect(c.Config.User).toBe("0:0")
      expect(c.Config.WorkingDir).toBe("/tmp")
      expect(c.Config.Hostname).toBe("fullhost")
      const h = c.HostConfig
      expect(h.PortBindings).toEqual({
        "8080/tcp": [{ HostIp: "", HostPort: "" }],
        "9000/udp": [{ HostIp: "127.0.0.1", HostPort: "" }]
      })
      expect(h.Mounts).toEqual([
        { Type: "volume", Source: `${scope}_vol`, Target: "/data" },
        { Type: "tmpfs", Target: "/scratch" }
      ])
      // A bind goes in Binds, the form in which the engine creates a missing host path (as Compose does).
      expect(h.Binds).toEqual(["/etc/hostname:/host-hostname:ro"])
      expect(h.Tmpfs).toEqual({ "/run": "size=1m", "/var/cache": "" })
      expect(h.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 0 })
      expect(h.Init).toBe(true)
      expect(h.CapAdd).toEqual(["NET_ADMIN"])
      expect(h.CapDrop).toEqual(["MKNOD"])
      expect(h.ReadonlyRootfs).toBe(true)
      expect(h.ExtraHosts).toEqual(["db.internal:10.1.2.3"])
      expect(h.NanoCpus).toBe(500_000_000)
      expect(h.Memory).toBe(64 * MiB)
      expect(h.MemoryReservation).toBe(32 * MiB)
      expect(h.PidsLimit).toBe(100)
      expect(h.NetworkMode).toBe(`${scope}_net`)
      expect(c.NetworkSettings.Networks[`${scope}_net`]?.Aliases).toEqual(expect.arrayContaining(["full", "f"]))

      yield* docker.startContainer("local", id)
      const started = yield* docker.inspectContainer("local", id)
      expect(started).toMatchObject({ state: "running", name: `${scope}-full-1`, labels: { "com.example": "yes" } })
      // An ephemeral binding gets a port from the engine once running (tcp and udp may get the same number).
      const ports = (yield* Effect.promise(() => raw.getContainer(id).inspect())).NetworkSettings.Ports
      const bound = ["8080/tcp", "9000/udp"].map((k) => Number(ports[k]?.[0]?.HostPort))
      expect(bound.every((p) => p > 0)).toBe(true)
      expect(started?.publishedPorts).toEqual([...new Set(bound)].sort((a, b) => a - b))
    }).pipe(Effect.provide(DockerLive.layer([{ name: "local" }])))
  )

  it.live('healthcheck ["NONE"] turns off the image\'s check; restart "always" brings a crashing container back', () =>
    Effect.gen(function* () {
      const docker = yield* Docker
      const quiet = `${scope}-nohc-1`
      yield* docker.createContainer("local", {
        ...baseConfig(scope, quiet, "moor-fixture/app:1"),
        healthcheck: { test: ["NONE"] }
      })
      yield* docker.startContainer("local", quiet)
      const crashy = `${scope}-crashy-1`
      yield* docker.createContainer("local", {
        ...baseConfig(scope, crashy, "moor-fixture/crashy:1"),
        restart: "always"
      })
      yield* docker.startContainer("local", crashy)
      yield* Effect.sleep(3_500)
      const seen = yield* docker.observe("local", scope)
      if (seen._tag !== "Known") throw new Error(seen.reason)
      expect(seen.containers.find((c) => c.name === quiet)).toMatchObject({ state: "running", health: "none" })
      // A running container is steady for observe (no inspect): the restart count comes from an inspect.
      const again = yield* docker.inspectContainer("local", crashy)
      expect(again?.restartCount).toBeGreaterThanOrEqual(1)
      expect(["running", "restarting"]).toContain(again?.state)
    }).pipe(Effect.provide(DockerLive.layer([{ name: "local" }])))
  )
})
