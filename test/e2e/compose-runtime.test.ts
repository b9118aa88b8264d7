/**
 * How moor runs a service's containers, end to end with the CLI as a real process, on engine A
 * (Docker 20.10) and on the current engine (Docker 26): replicas scaled up, replaced one at a time
 * and scaled down; a fixed container_name kept through a health-gated replacement; a name held by a
 * container moor does not own left alone, with the plan naming it; network_mode service:NAME;
 * post_start commands; restart on-failure:N and deploy.restart_policy on the engine; pull_policy
 * never with a missing image. Each engine gets its own scope, app name and temporary directories.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requireFixtures, type TestEngine, testEngines } from "../support/docker-e2e.ts"
import { cleanupEngine, execOut } from "../support/fleet-engines.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import { removeTempDirs, tempDir } from "../support/fleet-spec.ts"

describe.each(testEngines)("Compose runtime keys on $label", (engine: TestEngine) => {
  const docker = engine.raw
  const tok = randomBytes(3).toString("hex")
  const scope = `runtime-${tok}`
  const app = `rt${tok}`
  const fixed = `rt-${tok}-proxy`
  const foreign = `rt-${tok}-taken`
  const root = tempDir("runtime")
  const env = cliEnv(`sqlite:${join(root, "state.db")}`)
  let foreignId = ""

  const write = (compose: string) => {
    mkdirSync(join(root, app), { recursive: true })
    writeFileSync(join(root, "moor.yaml"), `scope: ${scope}\nhosts:\n  - name: local\n    engine: ${engine.endpoint}\n`)
    writeFileSync(join(root, app, "compose.yaml"), compose)
  }
  const spec = (version: number, replicas: number) => `
services:
  web:
    image: moor-fixture/app:${version}
    scale: ${replicas}
    deploy:
      update_config: { order: start-first, parallelism: 1 }
  proxy:
    image: moor-fixture/app:${version}
    container_name: ${fixed}
    restart: "on-failure:3"
    post_start:
      - command: ["sh", "-c", "echo started > /tmp/post-start"]
  sidecar:
    image: moor-fixture/app:1
    network_mode: "service:proxy"
    environment: { PORT: "8181" }
    deploy:
      restart_policy: { condition: on-failure, max_attempts: 2 }
  taken:
    image: moor-fixture/app:1
    container_name: ${foreign}
  offline:
    image: moor-fixture/never-pulled-${tok}:1
    pull_policy: never
`
  const ours = async () =>
    (await docker.listContainers({ all: true, filters: { label: [`moor.scope=${scope}`] } }))
      .map((c) => `${(c.Names[0] ?? "").slice(1)} ${c.State}`)
      .sort()

  beforeAll(async () => {
    await requireFixtures(engine)
    // A container moor does not own holds one of the names the spec asks for.
    const c = await docker.createContainer({ name: foreign, Image: "moor-fixture/app:1", Labels: { owner: "someone" } })
    foreignId = c.id
    await c.start()
  })
  afterAll(async () => {
    await cleanupEngine(docker, scope)
    await docker
      .getContainer(foreign)
      .remove({ force: true })
      .catch(() => undefined)
    removeTempDirs()
  })

  it("applies: three replicas, the fixed name, the shared network stack, post_start; the others skipped with why", async () => {
    write(spec(1, 3))
    const plan = await moor(env, "plan", root)
    expect(plan.stdout).toContain(
      `the container name ${foreign} is taken by a container moor does not own (no moor.scope=${scope} label); rename or remove it`
    )
    expect(plan.stdout).toContain(
      `image moor-fixture/never-pulled-${tok}:1 is not on host local and pull_policy is never: load it there, or change pull_policy`
    )
    const apply = await moor(env, "apply", root)
    expect(apply.stdout).toMatch(/0 failed/)
    expect(await ours()).toEqual(
      [
        `${app}-sidecar-1 running`,
        `${app}-web-1 running`,
        `${app}-web-2 running`,
        `${app}-web-3 running`,
        `${fixed} running`
      ].sort()
    )
    const proxy = await docker.getContainer(fixed).inspect()
    expect(proxy.Config.Labels["moor.service"]).toBe("proxy")
    expect(proxy.HostConfig.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 3 })
    expect(await execOut(docker, fixed, ["cat", "/tmp/post-start"])).toBe("started\n")
    const sidecar = await docker.getContainer(`${app}-sidecar-1`).inspect()
    expect(sidecar.HostConfig.NetworkMode).toBe(`container:${proxy.Id}`)
    expect(sidecar.HostConfig.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 2 })
    // The sidecar listens in the proxy's network stack: the proxy's own address answers on its port.
    expect(await execOut(docker, fixed, ["sh", "-c", "wget -qO- http://127.0.0.1:8181/version"])).toBe("1\n")
    // The foreign container is as it was.
    const other = await docker.getContainer(foreign).inspect()
    expect([other.Id, other.State.Running, other.Config.Labels.owner]).toEqual([foreignId, true, "someone"])
    // Nothing left to change; the two services left alone (a name taken, an image not pulled) keep it
    // out of sync: exit 2.
    const again = await moor(env, "plan", root, "--detailed-exitcode")
    expect([again.code, again.stdout]).toEqual([2, expect.stringContaining("No changes. 2 skipped.")])
  })

  it("a new image replaces the replicas one at a time and keeps the fixed name; a second plan is empty", async () => {
    write(spec(2, 3))
    const plan = await moor(env, "plan", root, "--json")
    const recreates = (
      JSON.parse(plan.stdout) as { actions: Array<{ _tag: string; id: string; waitsFor: Array<string> }> }
    ).actions.filter((a) => a._tag === "recreate" && a.id.includes("/web"))
    expect(recreates.map((a) => [a.id, a.waitsFor.filter((w) => w.includes("recreate"))])).toEqual([
      [`local/${app}/web:recreate`, []],
      [`local/${app}/web[2]:recreate`, [`local/${app}/web:recreate`]],
      [`local/${app}/web[3]:recreate`, [`local/${app}/web[2]:recreate`]]
    ])
    const apply = await moor(env, "apply", root)
    expect(apply.stdout).toMatch(/0 failed/)
    for (const name of [`${app}-web-1`, `${app}-web-2`, `${app}-web-3`, fixed]) {
      const c = await docker.getContainer(name).inspect()
      expect([name, c.Config.Image, c.State.Running]).toEqual([name, "moor-fixture/app:2", true])
    }
    // Nothing left to change; the two services left alone (a name taken, an image not pulled) keep it
    // out of sync: exit 2.
    const again = await moor(env, "plan", root, "--detailed-exitcode")
    expect([again.code, again.stdout]).toEqual([2, expect.stringContaining("No changes. 2 skipped.")])
  })

  it("scaling down stops and removes the highest replicas, with the reason", async () => {
    write(spec(2, 1))
    const plan = await moor(env, "plan", root)
    expect(plan.stdout).toContain(`- remove ${app}-web-3 (scaled down to 1 replica)`)
    const apply = await moor(env, "apply", root)
    expect(apply.stdout).toMatch(/0 failed/)
    expect((await ours()).filter((c) => c.includes("-web-"))).toEqual([`${app}-web-1 running`])
  })
})
