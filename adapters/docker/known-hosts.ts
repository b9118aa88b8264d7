/**
 * OpenSSH's known_hosts files, read the way `ssh` reads them (sshd(8), "SSH_KNOWN_HOSTS FILE
 * FORMAT"): `[@marker] patterns keytype base64-key [comment]`, where patterns are comma-separated,
 * may use `*` and `?`, may be negated with `!`, name a non-standard port as `[host]:port`, or are
 * hashed (`|1|salt|hmac-sha1`, what `HashKnownHosts yes` writes). `@revoked` keys are refused;
 * `@cert-authority` lines are recognised but not supported (moor's ssh client checks plain host keys
 * only). Lines that cannot be read are ignored, as ssh ignores them.
 *
 * Pure apart from hashing: the files' text comes in, a verdict on one host key goes out.
 */
import { createHash, createHmac } from "node:crypto"

export interface KnownHostsFile {
  readonly path: string
  /** The file's text; undefined when it does not exist. */
  readonly text: string | undefined
}

export interface KnownHostLine {
  readonly file: string
  /** 1-based. */
  readonly line: number
  readonly marker: "revoked" | "cert-authority" | undefined
  readonly patterns: string
  readonly keyType: string
  readonly key: Buffer
}

/** Where a line is, as `file:line`. */
export const whereOf = (l: Pick<KnownHostLine, "file" | "line">): string => `${l.file}:${l.line}`

/** The key type inside an SSH public key blob (its first string), or undefined. */
export const keyTypeOf = (blob: Buffer): string | undefined => {
  if (blob.length < 4) return undefined
  const n = blob.readUInt32BE(0)
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString("latin1") : undefined
}

/** `SHA256:...`, as `ssh-keygen -l` and ssh's prompts show a key. */
export const fingerprintOf = (blob: Buffer): string =>
  `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`

/** ED25519, ECDSA, RSA, DSA: how ssh names a key type in its messages. */
export const keyTypeName = (type: string): string =>
  type === "ssh-ed25519"
    ? "ED25519"
    : type.startsWith("ecdsa-")
      ? "ECDSA"
      : type === "ssh-rsa"
        ? "RSA"
        : type === "ssh-dss"
          ? "DSA"
          : type

/** The name a host is looked up by: `host` on port 22, `[host]:port` otherwise (lowercase). */
export const lookupName = (host: string, port: number | undefined): string => {
  const h = host.toLowerCase()
  return port === undefined || port === 22 ? h : `[${h}]:${port}`
}

export const parseKnownHosts = (file: KnownHostsFile): ReadonlyArray<KnownHostLine> => {
  if (file.text === undefined) return []
  const out: Array<KnownHostLine> = []
  file.text.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.trim()
    if (text === "" || text.startsWith("#")) return
    const fields = text.split(/\s+/)
    let marker: KnownHostLine["marker"]
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift()
      if (m === "@revoked") marker = "revoked"
      else if (m === "@cert-authority") marker = "cert-authority"
      else return
    }
    const [patterns, keyType, base64] = fields
    if (patterns === undefined || keyType === undefined || base64 === undefined) return
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return
    const key = Buffer.from(base64, "base64")
    if (keyTypeOf(key) !== keyType) return
    out.push({ file: file.path, line: i + 1, marker, patterns, keyType, key })
  })
  return out
}

const wildcard = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .toLowerCase()
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`
  )

/** Whether a line's host patterns name `name` (a `lookupName`). */
export const patternsMatch = (patterns: string, name: string): boolean => {
  if (patterns.startsWith("|1|")) {
    const [, , salt, hash] = patterns.split("|")
    if (salt === undefined || hash === undefined) return false
    const mac = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64")
    return mac === hash
  }
  let matched = false
  for (const p of patterns.split(",")) {
    if (p === "") continue
    const negated = p.startsWith("!")
    if (!wildcard(negated ? p.slice(1) : p).test(name)) continue
    if (negated) return false
    matched = true
  }
  return matched
}

export type HostKeyVerdict =
  | { readonly _tag: "known"; readonly at: KnownHostLine }
  /** No line names the host with a plain key (`certAuthority`: only a `@cert-authority` line does). */
  | { readonly _tag: "unknown"; readonly certAuthority?: KnownHostLine | undefined }
  /** The host is known with another key (of the same type, or only of other types). */
  | { readonly _tag: "changed"; readonly at: KnownHostLine }
  | { readonly _tag: "revoked"; readonly at: KnownHostLine }

/** What the known_hosts lines say about `key`, offered by the host looked up as `name`. */
export const verdictOf = (lines: ReadonlyArray<KnownHostLine>, name: string, key: Buffer): HostKeyVerdict => {
  const mine = lines.filter((l) => patternsMatch(l.patterns, name))
  const revoked = mine.find((l) => l.marker === "revoked" && l.key.equals(key))
  if (revoked !== undefined) return { _tag: "revoked", at: revoked }
  const plain = mine.filter((l) => l.marker === undefined)
  const same = plain.find((l) => l.key.equals(key))
  if (same !== undefined) return { _tag: "known", at: same }
  const type = keyTypeOf(key)
  const other = plain.find((l) => l.keyType === type) ?? plain[0]
  if (other !== undefined) return { _tag: "changed", at: other }
  return { _tag: "unknown", certAuthority: mine.find((l) => l.marker === "cert-authority") }
}

/** ssh2's server host key algorithms (its defaults, in its order), for each key type. */
const algorithmsOf: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["ssh-ed25519", ["ssh-ed25519"]],
  ["ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]],
  ["ecdsa-sha2-nistp384", ["ecdsa-sha2-nistp384"]],
  ["ecdsa-sha2-nistp521", ["ecdsa-sha2-nistp521"]],
  ["ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]]
]

/**
 * The host key algorithms to offer, those of the key types already known for the host first (as ssh
 * orders them), so that a host known by its RSA key is asked for that key rather than a newer type.
 */
export const hostKeyAlgorithms = (lines: ReadonlyArray<KnownHostLine>, name: string): ReadonlyArray<string> => {
  const known = new Set(
    lines.filter((l) => l.marker === undefined && patternsMatch(l.patterns, name)).map((l) => l.keyType)
  )
  const all = algorithmsOf.flatMap(([, algos]) => algos)
  const first = algorithmsOf.filter(([type]) => known.has(type)).flatMap(([, algos]) => algos)
  return [...first, ...all.filter((a) => !first.includes(a))]
}

/** The line that records `key` for `name`, as `ssh -o StrictHostKeyChecking=accept-new` writes it. */
export const knownHostLine = (name: string, key: Buffer): string =>
  `${name} ${keyTypeOf(key) ?? "unknown"} ${key.toString("base64")}`
