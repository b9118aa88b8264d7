/**
 * `moor down APP` acts on APP alone, on the real engines. Three apps on engine A: `x` (taken down),
 * `o` (taken out of the spec, kept by an apply with --no-prune) and `m` (moved to engine B, and
 * kept on A by the same apply). Down of `x` removes x's containers and network, and its volume only
 * with --volumes; o and m keep their containers (the same ones, in the same state) and volumes on
 * both engines, whatever x's network removal waits for.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type Dockerode from "dockerode"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import { cleanupFleet, containersOf, engineA, engineBRaw } from "../support/fleet-engines.ts"
import { hostA, hostB, moorYaml, removeTempDirs, tempDir } from "../support/fleet-spec.ts"

const tok = randomBytes(3).toString("hex")
const SCOPE = `down-${tok}`
const X = `d${tok}x`
const O = `d${tok}o`
const M = `d${tok}m`
const dir = tempDir("down")
const env = cliEnv(`sqlite:${join(tempDir("down-repo"), "state.db")}`)

/** An app with one service and a named volume, on `hosts`. */
const writeApp = (name: string, hosts: ReadonlyArray<string>) => {
  mkdirSync(join(dir, name), { recursive: true })
  writeFileSync(
    join(dir, name, "compose.yaml"),
    [
      "x-moor:",
      `  hosts: [${hosts.join(", ")}]`,
      "services:",
      "  web:",
      "    image: moor-fixture/app:1",
      "    volumes: [data:/data]",
      "volumes:",
      "  data: {}",
      ""
    ].join("\n")
  )
}

/** `name id state` of the scope's containers on one engine. */
const seen = async (engine: Dockerode) =>
  (await containersOf(engine, SCOPE)).map((c) => `${c.name} ${c.id.slice(0, 12)} ${c.state}`)
const volumesOf = async (engine: Dockerode) =>
  ((await engine.listVolumes({ filters: { label: [`moor.scope=${SCOPE}`] } })).Volumes ?? []).map((v) => v.Name).sort()
const networksOf = async (engine: Dockerode) =>
  (await engine.listNetworks({ filters: { label: [`moor.scope=${SCOPE}`] } })).map((n) => n.Name).sort()

beforeAll(async () => {
  await requireServers("engine-b", "engine-b-tls")
  await requireFixtures()
  await cleanupFleet(SCOPE)
  writeFileSync(join(dir, "moor.yaml"), moorYaml({ scope: SCOPE, hosts: [hostA(), hostB()] }))
  for (const app of [X, O, M]) writeApp(app, ["a"])
  const first = await moor(env, "apply", dir)
  expect(first.code, first.stdout + first.stderr).toBe(0)
  // o leaves the spec and m moves to b; --no-prune keeps both on a.
  rmSync(join(dir, O), { recursive: true })
  writeApp(M, ["b"])
  const second = await moor(env, "apply", dir, "--no-prune")
  expect(second.code, second.stdout + second.stderr).toBe(0)
  expect(second.stderr).toContain(
    `container ${O}-web-1 on host a is kept (orphan: app ${O} is not in the spec; prune is off)`
  )
  expect(second.stderr).toContain(`container ${M}-web-1 on host a is kept (app ${M} moved to b; prune is off)`)
})

afterAll(async () => {
  await cleanupFleet(SCOPE)
  removeTempDirs()
})

describe("moor down APP", () => {
  it("removes APP's containers and network alone: an orphan kept with --no-prune and an app moved away stay", async () => {
    const beforeA = await seen(engineA)
    const beforeB = await seen(engineBRaw)
    expect(beforeA.map((c) => c.split(" ")[0])).toEqual([`${M}-web-1`, `${O}-web-1`, `${X}-web-1`])
    expect(beforeB.map((c) => c.split(" ")[0])).toEqual([`${M}-web-1`])

    const down = await moor(env, "down", X, dir)
    expect(down.code, down.stdout + down.stderr).toBe(0)
    expect(down.stdout).toContain(`${X} is down (volumes kept; --volumes removes them)`)
    for (const line of down.stdout.split("\n").filter((l) => /^\s*(ok|failed|skipped) /.test(l)))
      expect(line).toContain(X)
    expect(await seen(engineA)).toEqual(beforeA.filter((c) => !c.startsWith(`${X}-`)))
    expect(await seen(engineBRaw)).toEqual(beforeB)
    expect(await networksOf(engineA)).toEqual([`${M}_default`, `${O}_default`])
    expect(await volumesOf(engineA)).toEqual([`${M}_data`, `${O}_data`, `${X}_data`])
  })

  it("with --volumes, APP's volume goes too, and no other's", async () => {
    const beforeA = await seen(engineA)
    const beforeB = await seen(engineBRaw)
    const down = await moor(env, "down", X, dir, "--volumes")
    expect(down.code, down.stdout + down.stderr).toBe(0)
    expect(down.stdout).toContain(`${X} is down, volumes removed`)
    expect(await volumesOf(engineA)).toEqual([`${M}_data`, `${O}_data`])
    expect(await volumesOf(engineBRaw)).toEqual([`${M}_data`])
    expect(await seen(engineA)).toEqual(beforeA)
    expect(await seen(engineBRaw)).toEqual(beforeB)
  })
})
