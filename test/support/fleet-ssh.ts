/**
 * An SSH "host" for the fleet tests: a throwaway sshd on 127.0.0.1 (OpenSSH's, from Debian's
 * `openssh-server`) that lets root in with a throwaway key, and an ssh-agent holding that key (moor,
 * through docker-modem and ssh2, authenticates with the agent at SSH_AUTH_SOCK). Over it,
 * docker-modem runs `docker system dial-stdio` on this machine, which talks to engine A. moor checks
 * the sshd's host key: `knownHosts` is a known_hosts file that names it, to give moor (moor.yaml's
 * `ssh: { known_hosts }`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const SSHD = "/usr/sbin/sshd"

export interface SshHost {
  /** `ssh://root@127.0.0.1:PORT` */
  readonly endpoint: string
  /** For the moor process: SSH_AUTH_SOCK. */
  readonly agentSocket: string
  /** A known_hosts file naming this sshd's host key (`[127.0.0.1]:PORT ssh-ed25519 ...`). */
  readonly knownHosts: string
  /** The host key's fingerprint, as `ssh-keygen -l` prints it (`SHA256:...`). */
  readonly fingerprint: string
  readonly dir: string
  readonly stop: () => Promise<void>
}

const which = (cmd: string): string | undefined => {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

/**
 * Fails with what is missing and what to run when an sshd cannot be started here. `npm test`'s
 * environment stage installs it (scripts/env/sshd.sh); the tests never skip for want of it.
 */
export const requireSshd = (): void => {
  const setup = "run `npm run setup -- sshd` (scripts/env/sshd.sh installs Debian's openssh-server)"
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is not installed: ${setup}`)
  for (const cmd of ["ssh-keygen", "ssh-agent", "ssh-add"])
    if (which(cmd) === undefined) throw new Error(`${cmd} is not installed: ${setup}`)
  if (process.getuid?.() !== 0)
    throw new Error("the test sshd lets root in with a key: run the tests as root (as `npm test` and CI do)")
  if (which("docker") === undefined)
    throw new Error(
      "the docker CLI is not on PATH: the remote side runs `docker system dial-stdio` (run `npm run setup -- docker`)"
    )
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port })
    s.once("connect", () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

const waitFor = async (what: string, check: () => Promise<boolean> | boolean, log: () => string): Promise<void> => {
  const deadline = Date.now() + 15_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within 15 s:\n${log()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

/**
 * Starts sshd on 127.0.0.1:`port` and an ssh-agent holding the client key. `authorizedKeyOptions`
 * goes in front of the key in authorized_keys (e.g. a forced command).
 */
export const startSshHost = async (port: number, authorizedKeyOptions = ""): Promise<SshHost> => {
  const dir = mkdtempSync(join(tmpdir(), "moor-fleet-ssh-"))
  const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, file)])
  keygen("host_key")
  keygen("client_key")
  const pub = execFileSync("ssh-keygen", ["-y", "-f", join(dir, "client_key")], { encoding: "utf8" }).trim()
  writeFileSync(
    join(dir, "authorized_keys"),
    `${authorizedKeyOptions === "" ? "" : `${authorizedKeyOptions} `}${pub}\n`
  )
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      `PidFile ${join(dir, "sshd.pid")}`,
      ""
    ].join("\n")
  )
  mkdirSync("/run/sshd", { recursive: true }) // sshd's privilege separation directory
  let sshdLog = ""
  const sshd = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "pipe", "pipe"] })
  sshd.stderr.on("data", (d: Buffer) => (sshdLog += d.toString()))
  const agentSocket = join(dir, "agent.sock")
  const agent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" })
  const stop = async () => {
    await Promise.all([stopChild(sshd), stopChild(agent)])
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(
      "sshd",
      () => portOpen(port),
      () => sshdLog
    )
    await waitFor(
      "ssh-agent",
      () => existsSync(agentSocket),
      () => ""
    )
    execFileSync("ssh-add", ["-q", join(dir, "client_key")], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } })
  } catch (e) {
    await stop()
    throw e
  }
  const hostPub = execFileSync("ssh-keygen", ["-y", "-f", join(dir, "host_key")], { encoding: "utf8" })
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(" ")
  const knownHosts = join(dir, "known_hosts")
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`)
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", knownHosts], { encoding: "utf8" }).split(" ")[1] ?? ""
  return { endpoint: `ssh://root@127.0.0.1:${port}`, agentSocket, knownHosts, fingerprint, dir, stop }
}
