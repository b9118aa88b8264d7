/**
 * Two specs in folders of the same name (~/a/shop and ~/b/shop) on one engine, neither setting a
 * scope: both take the folder's name as their scope, and must not prune each other. The first one
 * deploys; the second is refused on that engine with what to do, and nothing changes; given a
 * scope of its own it deploys beside the first. A spec moved to another folder is refused the same
 * way until it says its scope, and then finds its containers as they were.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, raw, requireFixtures } from "../support/docker-e2e.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"

const tok = randomBytes(3).toString("hex")
const NAME = `sc-${tok}`
const base = mkdtempSync(join(tmpdir(), "moor-two-folders-"))
const specA = join(base, "a", NAME)
const specB = join(base, "b", NAME)
const APP_A = `s${tok}a`
const APP_B = `s${tok}b`
const envA = cliEnv(`sqlite:${join(base, "a.db")}`)
const envB = cliEnv(`sqlite:${join(base, "b.db")}`)

const writeApp = (spec: string, app: string) => {
  mkdirSync(join(spec, app), { recursive: true })
  writeFileSync(join(spec, app, "compose.yaml"), "services:\n  web:\n    image: moor-fixture/app:1\n")
}

/** `name id state moor.spec` of a scope's containers. */
const containers = async (scope: string): Promise<ReadonlyArray<string>> =>
  (await raw.listContainers({ all: true, filters: { label: [`moor.scope=${scope}`] } }))
    .map((c) => `${c.Names[0]?.slice(1)} ${c.Id.slice(0, 12)} ${c.State} ${c.Labels["moor.spec"]}`)
    .sort()

beforeAll(async () => {
  await requireFixtures()
  writeApp(specA, APP_A)
  writeApp(specB, APP_B)
})

afterAll(async () => {
  await cleanupScope(NAME)
  await cleanupScope(`${NAME}-b`)
  rmSync(base, { recursive: true, force: true })
})

describe("two specs in folders of the same name, no scope set", () => {
  let deployedA: ReadonlyArray<string> = []

  it("the first deploys, and its containers record its path", async () => {
    const a = await moor(envA, "apply", specA)
    expect(a.code, a.stdout + a.stderr).toBe(0)
    deployedA = await containers(NAME)
    expect(deployedA).toEqual([expect.stringMatching(new RegExp(`^${APP_A}-web-1 \\w+ running ${specA}$`))])
  })

  it("the second is refused on that engine, says what to do, and changes nothing", async () => {
    const plan = await moor(envB, "plan", specB)
    expect(plan.code).toBe(1)
    const why = `scope ${NAME} is another spec's here: container ${APP_A}-web-1 was made from the spec at ${specA}, and this spec (${specB}) takes the same scope from its folder's name; set scope: in its moor.yaml (a name of its own, or ${NAME} if it is that spec, moved)`
    expect(plan.stderr).toContain(`error: host local is unknown, nothing on it was changed: ${why}`)
    const apply = await moor(envB, "apply", specB)
    expect(apply.code).toBe(1)
    expect(apply.stderr).toContain(why)
    expect(await containers(NAME)).toEqual(deployedA)
  })

  it("with a scope of its own, the second deploys beside the first", async () => {
    writeFileSync(join(specB, "moor.yaml"), `scope: ${NAME}-b\n`)
    const b = await moor(envB, "apply", specB)
    expect(b.code, b.stdout + b.stderr).toBe(0)
    expect((await containers(`${NAME}-b`)).map((c) => c.split(" ")[0])).toEqual([`${APP_B}-web-1`])
    expect(await containers(NAME)).toEqual(deployedA)
    const a = await moor(envA, "plan", specA, "--detailed-exitcode")
    expect(a.code, a.stdout + a.stderr).toBe(0)
  })

  it("a spec moved to another folder is refused until it says its scope, then finds its containers as they were", async () => {
    const moved = join(base, "moved", NAME)
    mkdirSync(join(base, "moved"))
    renameSync(specA, moved)
    const refused = await moor(envA, "apply", moved)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`was made from the spec at ${specA}, and this spec (${moved})`)
    writeFileSync(join(moved, "moor.yaml"), `scope: ${NAME}\n`)
    const plan = await moor(envA, "plan", moved, "--detailed-exitcode")
    expect(plan.code, plan.stdout + plan.stderr).toBe(0)
    expect(await containers(NAME)).toEqual(deployedA)
  })
})
