/**
 * An ssh:// engine's host key, checked against known_hosts before anything is sent, as ssh does with
 * `StrictHostKeyChecking yes` (or `accept-new` when asked): a key that a known_hosts line names for
 * the host goes on; an unknown host is refused with its key's fingerprint and what to do (or, in
 * accept-new mode, recorded and accepted); a changed or revoked key is refused, in every mode.
 *
 * The files: the user's `~/.ssh/known_hosts` (or the file moor.yaml names) and the system's
 * `/etc/ssh/ssh_known_hosts`, read again at each connection (a key added meanwhile counts).
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { dirname, join } from "node:path"
import {
  type KnownHostLine,
  type KnownHostsFile,
  fingerprintOf,
  hostKeyAlgorithms,
  keyTypeName,
  keyTypeOf,
  knownHostLine,
  lookupName,
  parseKnownHosts,
  verdictOf,
  whereOf
} from "./known-hosts.ts"

/** How an ssh:// engine's host key is checked (moor.yaml's `ssh:`). */
export interface SshSettings {
  /** A known_hosts file (absolute) read instead of `~/.ssh/known_hosts`; the system's is read too. */
  readonly knownHosts?: string | undefined
  /** A host seen for the first time is recorded in that file and accepted; a changed key is still refused. */
  readonly acceptNew?: boolean | undefined
}

export const SYSTEM_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"

export interface HostKeyCheck {
  /** For ssh2's `hostVerifier`: true to go on with the handshake. */
  readonly verify: (key: Buffer) => boolean
  /** For ssh2's `algorithms.serverHostKey`: the key types known for the host first. */
  readonly algorithms: ReadonlyArray<string>
  /** Why the last key was refused: the reason the refused connection's error should give. */
  readonly refusal: () => string | undefined
}

const readFile = (path: string): KnownHostsFile & { readonly problem?: string } => {
  try {
    return { path, text: readFileSync(path, "utf8") }
  } catch (e) {
    const code = (e as { code?: unknown }).code
    return code === "ENOENT"
      ? { path, text: undefined, problem: "missing" }
      : { path, text: undefined, problem: `unreadable: ${typeof code === "string" ? code : String(e)}` }
  }
}

const hostKeyFile: Readonly<Record<string, string>> = {
  "ssh-ed25519": "ssh_host_ed25519_key.pub",
  "ssh-rsa": "ssh_host_rsa_key.pub"
}

const describeKey = (key: Buffer): string => `${keyTypeName(keyTypeOf(key) ?? "?")} key ${fingerprintOf(key)}`
const describeLine = (l: KnownHostLine): string => `${keyTypeName(l.keyType)} key ${fingerprintOf(l.key)}`

/** The host key check of the engine at `ssh://…@host:port`. */
export const hostKeyCheck = (
  host: string,
  port: number | undefined,
  settings: SshSettings = {},
  home: string = homedir()
): HostKeyCheck => {
  const userFile = settings.knownHosts ?? join(home, ".ssh", "known_hosts")
  const files = [userFile, SYSTEM_KNOWN_HOSTS]
  const name = lookupName(host, port)
  const readAll = () => files.map(readFile)
  let refused: string | undefined
  const refuse = (why: string): boolean => {
    refused = why
    return false
  }

  const unknown = (key: Buffer, read: ReadonlyArray<ReturnType<typeof readFile>>): string => {
    const type = keyTypeOf(key) ?? "?"
    const onHost = hostKeyFile[type] ?? (type.startsWith("ecdsa-") ? "ssh_host_ecdsa_key.pub" : "ssh_host_*_key.pub")
    const shown = read.map((f) => (f.problem === undefined ? f.path : `${f.path} (${f.problem})`)).join(", ")
    const keyscan = `ssh-keyscan ${port === undefined || port === 22 ? "" : `-p ${port} `}-t ${type} ${host} >> ${userFile}`
    return (
      `the host key of ${name} is not known: it offered ${describeKey(key)}, which no known_hosts line names ` +
      `(read: ${shown}). Check that fingerprint with the host's owner (on the host: ssh-keygen -lf /etc/ssh/${onHost}), ` +
      `then add the key to ${userFile} (${keyscan}), or set ssh: { accept_new: true } in moor.yaml to record it on first contact`
    )
  }

  const record = (key: Buffer): string | undefined => {
    try {
      mkdirSync(dirname(userFile), { recursive: true, mode: 0o700 })
      const before = readFile(userFile).text ?? ""
      const line = knownHostLine(name, key)
      appendFileSync(userFile, `${before === "" || before.endsWith("\n") ? "" : "\n"}${line}\n`, { mode: 0o600 })
      process.stderr.write(`warning: permanently added ${name} (${describeKey(key)}) to ${userFile}\n`)
      return undefined
    } catch (e) {
      const code = (e as { code?: unknown }).code
      return `cannot record the host key of ${name} (${describeKey(key)}) in ${userFile}: ${typeof code === "string" ? code : String(e)}`
    }
  }

  return {
    algorithms: hostKeyAlgorithms(readAll().flatMap(parseKnownHosts), name),
    refusal: () => refused,
    verify: (key) => {
      const read = readAll()
      const verdict = verdictOf(read.flatMap(parseKnownHosts), name, key)
      switch (verdict._tag) {
        case "known":
          refused = undefined
          return true
        case "revoked":
          return refuse(
            `the host key of ${name} (${describeKey(key)}) is marked @revoked in ${whereOf(verdict.at)}: refused, nothing was sent to it`
          )
        case "changed": {
          const at = verdict.at
          const sameType = at.keyType === keyTypeOf(key)
          return refuse(
            `HOST KEY CHANGED for ${name}: it offered ${describeKey(key)}, but ${whereOf(at)} ` +
              `${sameType ? "has" : "knows it by"} ${describeLine(at)}. Someone may be intercepting the connection, ` +
              `or the host was reinstalled: nothing was sent to it, and accept_new does not apply to a changed key. ` +
              `If the change is expected, check the new fingerprint with the host's owner, remove the old key ` +
              `(ssh-keygen -R '${name}' -f ${at.file}) and add the new one`
          )
        }
        case "unknown": {
          const ca = verdict.certAuthority
          if (ca !== undefined)
            return refuse(
              `${name} is named only by a @cert-authority line (${whereOf(ca)}), and moor does not check host ` +
                `certificates: add the host's own key to ${userFile} (${describeKey(key)} is the one it offered)`
            )
          if (settings.acceptNew !== true) return refuse(unknown(key, read))
          const failed = record(key)
          if (failed !== undefined) return refuse(failed)
          refused = undefined
          return true
        }
      }
    }
  }
}
