/**
 * A host reached over SSH: a throwaway sshd on 127.0.0.1:19750 lets root in with a throwaway key held
 * by an ssh-agent; moor's `ssh://root@127.0.0.1:19750` engine runs `docker system dial-stdio` there,
 * which is engine A. Plan, apply and status through it (next to engine B over TLS in the same spec),
 * and the clear errors when the agent is missing, nothing listens, or the remote has no docker.
 * The sshd's host key is checked against known_hosts: known (the file moor.yaml names), unknown
 * (refused with its fingerprint), recorded on first contact (accept_new), changed (refused, loudly).
 * A missing sshd fails the file with what to run (`npm run setup -- sshd`); it is never skipped.
 */
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
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
const hostS = (port: number, settings: FleetHost["ssh"]): FleetHost => ({
  name: "s",
  engine: `ssh://root@127.0.0.1:${port}`,
  ...(settings === undefined ? {} : { ssh: settings })
})
/** A spec with host s over ssh:// and host b; s's host key is checked against `settings` (default: the sshd's file). */
const specWith = (port: number, settings: FleetHost["ssh"] = { knownHosts: ssh!.knownHosts }) =>
  writeSpec(tempDir("ssh"), {
    scope: SCOPE,
    hosts: [hostS(port, settings), hostB()],
    apps: [{ name: APP, hosts: ["s", "b"] }]
  })

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
    expect(plan.stderr.trim()).toBe("")
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain("host s:\n")
    expect(plan.stdout).toContain(`+ create ${APP}-web-1 (moor-fixture/app:1) (missing)`)

    const apply = await moor(env, "apply", dir)
    expect(apply.stderr.trim()).toBe("")
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
    expect(r.stderr.trim()).toMatch(
      /^error: host s is unknown, nothing on it was changed: .* the engine at ssh:\/\/root@127\.0\.0\.1:19750 did not answer: ssh: All configured authentication methods failed$/m
    )
    expect(r.stdout).toContain("host b: no changes")
  })

  it("nothing listening: connection refused, named with the endpoint", async () => {
    const env = cliEnv("memory", { SSH_AUTH_SOCK: ssh!.agentSocket })
    const r = await moor(env, "plan", specWith(PORT_CLOSED))
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(
      /^error: host s is unknown, nothing on it was changed: .*ssh:\/\/root@127\.0\.0\.1:19759 did not answer: connection refused \(ECONNREFUSED\)$/m
    )
  })

  it("a remote without docker: the host is unknown (the remote's own message is lost), and moor exits by itself", async () => {
    const forced = await startSshHost(PORT_FORCED, `command="echo 'sh: docker: not found' >&2; exit 127"`)
    try {
      const env = cliEnv("memory", { SSH_AUTH_SOCK: forced.agentSocket })
      const r = await moor(env, "plan", specWith(PORT_FORCED, { knownHosts: forced.knownHosts }))
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toMatch(
        /^error: host s is unknown, nothing on it was changed: .*host "s": the connection broke: socket hang up \(ECONNRESET\)$/m
      )
    } finally {
      await forced.stop()
    }
  })

  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")

  it("an unknown host key (~/.ssh/known_hosts by default): the host is refused with the key's fingerprint and what to do", async () => {
    const home = tempDir("ssh-home")
    const env = cliEnv("memory", { SSH_AUTH_SOCK: ssh!.agentSocket, HOME: home })
    const r = await moor(env, "plan", specWith(PORT, {}))
    expect(r.code).toBe(1)
    const err = r.stderr.trim()
    expect(err).toMatch(
      new RegExp(
        `^error: host s is unknown, nothing on it was changed: .*the engine at ssh://root@127\\.0\\.0\\.1:19750 was not contacted: ssh: the host key of \\[127\\.0\\.0\\.1\\]:19750 is not known: it offered ED25519 key ${escaped(ssh!.fingerprint)}, which no known_hosts line names \\(read: ${escaped(home)}/\\.ssh/known_hosts \\(missing\\), /etc/ssh/ssh_known_hosts`,
        "m"
      )
    )
    expect(err).toContain(
      `then add the key to ${home}/.ssh/known_hosts (ssh-keyscan -p 19750 -t ssh-ed25519 127.0.0.1 >> `
    )
    expect(err).toContain("or set ssh: { accept_new: true } in moor.yaml to record it on first contact")
    expect(err).not.toMatch(/\n\s+at /)
    expect(r.stdout).toContain("host b: no changes")
  })

  it("accept_new: the first contact records the host key in the named file, and from then on it is known", async () => {
    const file = join(tempDir("ssh-accept"), "known_hosts")
    const env = cliEnv("memory", { SSH_AUTH_SOCK: ssh!.agentSocket })
    const dir = specWith(PORT, { knownHosts: file, acceptNew: true })
    const first = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(first.code).toBe(0)
    expect(first.stderr.trim()).toBe(
      `warning: permanently added [127.0.0.1]:19750 (ED25519 key ${ssh!.fingerprint}) to ${file}`
    )
    expect(readFileSync(file, "utf8")).toBe(readFileSync(ssh!.knownHosts, "utf8"))
    const again = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(again.code).toBe(0)
    expect(again.stderr.trim()).toBe("")
    expect(readFileSync(file, "utf8")).toBe(readFileSync(ssh!.knownHosts, "utf8"))
  })

  it("a changed host key is refused loudly, even with accept_new: nothing on the host changes, the file is kept", async () => {
    const keys = tempDir("ssh-changed")
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(keys, "other")])
    const other = readFileSync(join(keys, "other.pub"), "utf8").trim()
    const file = join(keys, "known_hosts")
    writeFileSync(file, `[127.0.0.1]:19750 ${other}\n`)
    const oldFingerprint = execFileSync("ssh-keygen", ["-l", "-f", file], { encoding: "utf8" }).split(" ")[1] ?? ""
    const before = await summaryOf(engineA, SCOPE)
    const env = cliEnv("memory", { SSH_AUTH_SOCK: ssh!.agentSocket })
    const dir = writeSpec(tempDir("ssh"), {
      scope: SCOPE,
      hosts: [hostS(PORT, { knownHosts: file, acceptNew: true }), hostB()],
      apps: [{ name: APP, hosts: ["s", "b"], services: { web: {}, extra: {} } }]
    })
    const r = await moor(env, "apply", dir)
    expect(r.code).toBe(1)
    const err = r.stderr.trim()
    expect(err).toContain(
      `was not contacted: ssh: HOST KEY CHANGED for [127.0.0.1]:19750: it offered ED25519 key ${ssh!.fingerprint}, but ${file}:1 has ED25519 key ${oldFingerprint}. Someone may be intercepting the connection`
    )
    expect(err).toContain(`accept_new does not apply to a changed key`)
    expect(err).toContain(`ssh-keygen -R '[127.0.0.1]:19750' -f ${file}`)
    expect(readFileSync(file, "utf8")).toBe(`[127.0.0.1]:19750 ${other}\n`)
    // Host s (engine A) is as it was; b, reached without ssh, got the new service.
    expect(await summaryOf(engineA, SCOPE)).toEqual(before)
    expect(await summaryOf(engineBRaw, SCOPE)).toContain(`${APP}-extra-1 running`)
  })
})
