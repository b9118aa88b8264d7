/**
 * examples/fleet as a person runs it: plan grouped by host, apply (a hook across hosts), the apps
 * answering on each host's own address, status with a host column, and down.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import { cleanupFleet, engineA, engineBRaw, engineBTls, fetchText, summaryOf } from "../support/fleet-engines.ts"

const SCOPE = "fleet-example"
const SPEC = "examples/fleet"
const env = cliEnv("memory")

beforeAll(async () => {
  await requireServers("engine-b", "engine-b-tls")
  await requireFixtures()
  await cleanupFleet(SCOPE)
})
afterAll(() => cleanupFleet(SCOPE))

describe("examples/fleet", () => {
  it("plans by host, applies on both, registers the consumer on the provider's host, and goes down", async () => {
    const plan = await moor(env, "plan", SPEC, "--detailed-exitcode")
    expect(plan.stderr).toBe("")
    expect(plan.code).toBe(2)
    const hostB = plan.stdout.slice(plan.stdout.indexOf("host b:"))
    expect(plan.stdout.slice(0, plan.stdout.indexOf("host b:"))).toContain("+ create fleet-front-web-1")
    expect(hostB).toContain("+ create fleet-catalog-api-1")
    expect(hostB).toContain("> run hook fleet-catalog:hooks/register.sh in fleet-catalog-api-1 for fleet-front")

    const apply = await moor(env, "apply", SPEC)
    expect(apply.stderr).toBe("")
    expect(apply.code).toBe(0)
    expect(await summaryOf(engineA, SCOPE)).toEqual(["fleet-front-web-1 running"])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual(["fleet-catalog-api-1 running", "fleet-front-web-1 running"])
    expect(await fetchText("http://127.0.0.1:19780/")).toContain("message: fleet front")
    expect(await fetchText(`http://${engineBTls.address}:19780/`)).toContain("message: fleet front")
    expect(await fetchText(`http://${engineBTls.address}:19781/consumers/fleet-front`)).toBe("1.0.0 on b\n")

    const status = await moor(env, "status", SPEC)
    expect(status.stdout).toMatch(/^a\s+fleet-front\s+running/m)
    expect(status.stdout).toMatch(/^b\s+fleet-catalog\s+running/m)

    for (const app of ["fleet-front", "fleet-catalog"]) expect((await moor(env, "down", app, SPEC)).code).toBe(0)
    expect(await summaryOf(engineA, SCOPE)).toEqual([])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([])
  })
})
