/**
 * A host reached over SSH: a throwaway sshd on 127.0.0.1:19750 lets root in with a throwaway key held
 * by an ssh-agent; moor's `ssh://root@127.0.0.1:19750` engine runs `docker system dial-stdio` there,
 * which is engine A. Plan, apply and status through it (next to engine B over TLS in the same spec),
 * and the clear errors when the agent is missing, nothing listens, or the remote has no docker.
 * A missing sshd fails the file with what to run (`npm run setup -- sshd`); it is never skipped.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requireFixtures } from "../support/docker-e2e.ts"
import { requireServers } from "../support/env.ts"
import { cliEnv, moor } from "../support/fleet-cli.ts"
import { cleanupFleet, engineA, engineBRaw, summaryOf } from "../support/fleet-engines.ts"
import { type FleetHost, hostB, removeTempDirs, tempDir, writeSpec } from "../support/fleet-spec.ts"
import { requireSshd, type SshHost, startSshHost } from "../support/fleet-ssh.ts"

const PORT = 19750
const PORT_FORCED = 19751
const PORT_CLOSED = 19759

const tok = randomBytes(3).toString("hex")
const SCOPE = `fleet-s-${tok}`
const APP = `fs${tok}app`
const hostS = (port: number): FleetHost => ({ name: "s", engine: `ssh://root@127.0.0.1:${port}` })
const specWith = (port: number) =>
  writeSpec(tempDir("ssh"), { scope: SCOPE, hosts: [hostS(port), hostB()], apps: [{ name: APP, hosts: ["s", "b"] }] })

/** Node's DEP0170 warning that docker-modem's ssh transport triggers (see the report in docs/fleet.md). */
const withoutDeprecation = (stderr: string): string =>
  stderr
    .split("\n")
    .filter((l) => !/DeprecationWarning: The URL ssh:|--trace-deprecation/.test(l))
    .join("\n")
    .trim()

let ssh: SshHost | undefined

beforeAll(async () => {
  requireSshd()
  await requireServers("engine-b", "engine-b-tls")
  await requireFixtures()
  await cleanupFleet(SCOPE)
  ssh = await startSshHost(PORT)
})
afterAll(async () => {
  removeTempDirs()
  await ssh?.stop()
  await cleanupFleet(SCOPE)
})

describe("a host over ssh://", () => {
  it("plan, apply and status reach the engine behind sshd, next to a TLS host", async () => {
    const env = cliEnv("memory", { SSH_AUTH_SOCK: ssh!.agentSocket })
    const dir = specWith(PORT)
    const plan = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(withoutDeprecation(plan.stderr)).toBe("")
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain("host s:\n")
    expect(plan.stdout).toContain(`+ create ${APP}-web-1 (moor-fixture/app:1) (missing)`)

    const apply = await moor(env, "apply", dir)
    expect(withoutDeprecation(apply.stderr)).toBe("")
    expect(apply.code).toBe(0)
    expect(apply.stdout).toMatch(/ok {3}s: > start /)
    expect(apply.stdout).toMatch(/run \S+-b, \S+-s\)/)
    // Host s is engine A, reached through sshd.
    expect(await summaryOf(engineA, SCOPE)).toEqual([`${APP}-web-1 running`])
    expect(await summaryOf(engineBRaw, SCOPE)).toEqual([`${APP}-web-1 running`])

    const status = await moor(env, "status", dir)
    expect(status.stdout).toContain("host s: reachable")
    expect(status.stdout).toMatch(new RegExp(`^s\\s+${APP}\\s+running`, "m"))
    const again = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(again.code).toBe(0)
  })

  it("without an ssh-agent the host is unknown and the error says the authentication failed", async () => {
    const env = cliEnv("memory")
    delete env.SSH_AUTH_SOCK
    const r = await moor(env, "plan", specWith(PORT))
    expect(r.code).toBe(1)
    expect(withoutDeprecation(r.stderr)).toMatch(
      /^error: host s is unknown, nothing on it was changed: .* the engine at ssh:\/\/root@127\.0\.0\.1:19750 did not answer: ssh: All configured authentication methods failed$/m
    )
    expect(r.stdout).toContain("host b: no changes")
  })

  it("nothing listening: connection refused, named with the endpoint", async () => {
    const env = cliEnv("memory", { SSH_AUTH_SOCK: ssh!.agentSocket })
    const r = await moor(env, "plan", specWith(PORT_CLOSED))
    expect(r.code).toBe(1)
    expect(withoutDeprecation(r.stderr)).toMatch(
      /^error: host s is unknown, nothing on it was changed: .*ssh:\/\/root@127\.0\.0\.1:19759 did not answer: connection refused \(ECONNREFUSED\)$/m
    )
  })

  it("a remote without docker: the host is unknown (the remote's own message is lost)", async () => {
    const forced = await startSshHost(PORT_FORCED, `command="echo 'sh: docker: not found' >&2; exit 127"`)
    try {
      const env = cliEnv("memory", { SSH_AUTH_SOCK: forced.agentSocket })
      const r = await moor(env, "plan", specWith(PORT_FORCED))
      expect(r.code).toBe(1)
      expect(withoutDeprecation(r.stderr)).toMatch(
        /^error: host s is unknown, nothing on it was changed: .*host "s": the connection broke: socket hang up \(ECONNRESET\)$/m
      )
    } finally {
      await forced.stop()
    }
  })
})
