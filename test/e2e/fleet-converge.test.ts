/**
 * One spec, two real engines: host `a` is engine A over its unix socket, host `b` is engine B over
 * TCP with mutual TLS. The CLI, as a real process, with PostgreSQL as the repository: `plan` groups
 * by host, `apply` converges both hosts (an app placed on both, one placed by label, a `requires`
 * across hosts whose `on_start` hook runs on the provider's host), records one run per host, and
 * `status` shows a host column.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import { cliEnv, linesStarting, moor } from "../support/fleet-cli.ts"
import {
  cleanupFleet,
  engineA,
  engineBRaw,
  engineBTls,
  execOut,
  fetchText,
  summaryOf
} from "../support/fleet-engines.ts"
import { appStatesOn, freshPgRepo, runsWithActions, stateLines } from "../support/fleet-repo.ts"
import { hostA, hostB, removeTempDirs, tempDir, writeSpec } from "../support/fleet-spec.ts"
import { dropTestSchemas } from "../support/repo/pg.ts"

const tok = randomBytes(3).toString("hex")
const SCOPE = `fleet-c-${tok}`
const WEB = `fc${tok}web`
const API = `fc${tok}api`
const PORT = 19701
const repo = freshPgRepo()
const env = cliEnv(repo)
const dir = writeSpec(tempDir("converge"), {
  scope: SCOPE,
  hosts: [hostA({ zone: "one" }), hostB({ zone: "two", tier: "back" })],
  apps: [
    {
      name: WEB,
      hosts: ["a", "b"],
      requires: [{ app: API, onStart: "hooks/register.sh" }],
      services: { web: { ports: [`${PORT}:8080`], environment: { MESSAGE: "fleet web" } } }
    },
    {
      name: API,
      labels: { tier: "back" },
      services: { api: {} },
      files: {
        "hooks/register.sh": 'set -eu\necho "$MOOR_CONSUMER_APP registered on $MOOR_HOST" >> /tmp/consumers\n'
      }
    }
  ]
})

beforeAll(async () => {
  await requireServers("postgres", "engine-b", "engine-b-tls")
  await requireFixtures()
  await cleanupFleet(SCOPE)
})
afterAll(async () => {
  removeTempDirs()
  await cleanupFleet(SCOPE)
  await dropTestSchemas()
})

describe("moor on two engines (a: unix socket, b: tcp with mutual TLS)", () => {
  it("plan groups the actions by host and changes nothing", async () => {
    const r = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(2)
    const out = r.stdout
    const a = out.indexOf("host a:")
    const b = out.indexOf("host b:")
    expect(a).toBeGreaterThanOrEqual(0)
    expect(b).toBeGreaterThan(a)
    const hostASection = out.slice(a, b)
    const hostBSection = out.slice(b, out.indexOf("\napps:"))
    // web is placed on both hosts; api (placed by label tier=back) only on b.
    expect(hostASection).toContain(`+ create ${WEB}-web-1 (moor-fixture/app:1) (missing)`)
    expect(hostASection).not.toContain(API)
    expect(hostBSection).toContain(`+ create ${WEB}-web-1 (moor-fixture/app:1) (missing)`)
    expect(hostBSection).toContain(`+ create ${API}-api-1 (moor-fixture/app:1) (missing)`)
    // The hook of the provider runs on the provider's host, for the consumer on both hosts.
    expect(hostBSection).toContain(`> run hook ${API}:hooks/register.sh in ${API}-api-1 for ${WEB}`)
    expect(hostASection).not.toContain("run hook")
    expect(out).toMatch(new RegExp(`a/${WEB}\\s+pending`))
    expect(out).toMatch(new RegExp(`b/${WEB}\\s+pending`))
    expect(out).toMatch(new RegExp(`b/${API}\\s+pending`))
    expect(await summaryOf(engineA, SCOPE)).toEqual([])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([])
  })

  it("apply converges both hosts, one run per host, the hook on the provider's host", async () => {
    const r = await moor(env, "apply", dir)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Apply complete: \d+ done, 0 failed, 0 skipped/)
    const runIds = /run (\S+)-a, (\S+)-b\)/.exec(r.stdout)
    expect(runIds?.[1]).toBeDefined()
    expect(runIds?.[1]).toBe(runIds?.[2])
    expect(linesStarting(r.stdout, "ok   b: > run hook")).toHaveLength(1)
    expect(linesStarting(r.stdout, "ok   a: > run hook")).toEqual([])

    expect(await summaryOf(engineA, SCOPE)).toEqual([`${WEB}-web-1 running`])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${API}-api-1 running`, `${WEB}-web-1 running`])
    // Each host publishes the port on its own address.
    expect(await fetchText(`http://127.0.0.1:${PORT}/`)).toContain("message: fleet web")
    expect(await fetchText(`http://${engineBTls.address}:${PORT}/`)).toContain("message: fleet web")
    expect(await execOut(engineBRaw, `${API}-api-1`, ["cat", "/tmp/consumers"])).toBe(`${WEB} registered on b\n`)

    const runs = await runsWithActions(repo, SCOPE)
    expect(runs.map((d) => `${d.run.id} ${d.run.host} ${d.run.status}`)).toEqual(
      ["a", "b"].map((h) => `${runIds?.[1]}-${h} ${h} succeeded`)
    )
    for (const d of runs) {
      expect(d.actions.length).toBeGreaterThan(0)
      expect(new Set(d.actions.map((x) => x.host))).toEqual(new Set([d.run.host]))
    }
    const onB = runs.find((d) => d.run.host === "b")?.actions.map((x) => `${x.kind} ${x.app}`) ?? []
    expect(onB).toContain(`run-hook ${API}`)
    // web on a started only once api was healthy on b and its hook had run there.
    const action = (host: string, kind: string, app: string) => {
      const found = runs.flatMap((d) => d.actions).find((x) => x.host === host && x.kind === kind && x.app === app)
      if (found === undefined) throw new Error(`no ${kind} ${app} on ${host}`)
      return found
    }
    const hook = action("b", "run-hook", API)
    expect(hook.startedAt).toBeGreaterThanOrEqual(action("b", "wait-healthy", API).finishedAt)
    expect(action("a", "start", WEB).startedAt).toBeGreaterThanOrEqual(hook.finishedAt)
    expect(stateLines(await appStatesOn(repo, SCOPE, ["a", "b"]))).toEqual([
      `a/${WEB} running`,
      `b/${API} running`,
      `b/${WEB} running`
    ])
  })

  it("status shows a host column; a second plan has nothing to do on either host", async () => {
    const r = await moor(env, "status", dir)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("host a: reachable")
    expect(r.stdout).toContain("host b: reachable")
    expect(r.stdout).toMatch(/^HOST\s+APP\s+ENGINE\s+REPO$/m)
    expect(r.stdout).toMatch(new RegExp(`^a\\s+${WEB}\\s+running\\s+running`, "m"))
    expect(r.stdout).toMatch(new RegExp(`^b\\s+${API}\\s+running\\s+running`, "m"))
    expect(r.stdout).toMatch(new RegExp(`^b\\s+${WEB}\\s+running\\s+running`, "m"))

    const json = JSON.parse((await moor(env, "status", dir, "--json")).stdout) as {
      hosts: Array<{ host: string; status: string }>
      apps: Array<{ host: string; app: string; state: string }>
    }
    expect(json.hosts.map((h) => `${h.host} ${h.status}`)).toEqual(["a known", "b known"])
    expect(json.apps.map((x) => `${x.host}/${x.app} ${x.state}`).sort()).toEqual([
      `a/${WEB} running`,
      `b/${API} running`,
      `b/${WEB} running`
    ])

    const again = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("host a: no changes")
    expect(again.stdout).toContain("host b: no changes")
  })

  it("down takes an app off every host it is on, and apply brings it back", async () => {
    const down = await moor(env, "down", WEB, dir)
    expect(down.code).toBe(0)
    expect(down.stdout).toContain(`${WEB} is down`)
    expect(await summaryOf(engineA, SCOPE)).toEqual([])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${API}-api-1 running`])
    const back = await moor(env, "apply", dir)
    expect(back.code).toBe(0)
    expect(await summaryOf(engineA, SCOPE)).toEqual([`${WEB}-web-1 running`])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${API}-api-1 running`, `${WEB}-web-1 running`])
  })
})
