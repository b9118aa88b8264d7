/**
 * known_hosts read as ssh reads it, and the verdict on a host key: known, unknown, changed, revoked;
 * hashed entries, `[host]:port`, wildcards and negations; fingerprints as ssh-keygen prints them.
 * The keys and the hashed line below were made with ssh-keygen (OpenSSH 9.2).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { hostKeyCheck } from "../../adapters/docker/host-keys.ts"
import {
  fingerprintOf,
  hostKeyAlgorithms,
  keyTypeOf,
  lookupName,
  parseKnownHosts,
  patternsMatch,
  verdictOf
} from "../../adapters/docker/known-hosts.ts"

const K1 = "AAAAC3NzaC1lZDI1NTE5AAAAIFTtNmzRULondy6hYn6XitlSaHlyRmUym0+DvmYVaHGb"
const K1_FP = "SHA256:UvcTA6u4KkiwMVUNOp20Ul8v8HtznO0X8/6ot8fBuh8"
const K2 = "AAAAC3NzaC1lZDI1NTE5AAAAIIz3ut9l3jCG9J2S6u5V/GSo8Kg2DYx/QHIETkHTBmDV"
const K2_FP = "SHA256:XdMLxhIhNqvry/IBZ/txBhscQal/rp45OqC4caINTKs"
const EC =
  "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBG/2tFBSZ+eXjrInlSZ7H9Qj/aMf5sG1DePqD4lZ6cnAnnggwE/hSZOlli/PD04lCod80zYHBLjuf1XFXr5fg4I="
/** `ssh-keygen -H` of `[db.example]:2222 ssh-ed25519 K1`. */
const HASHED = `|1|OM/pn3WnbFr1FGU/gDAe/pUBQQI=|lqSnfpJHOmT/TmR+T25PIOeMCOM= ssh-ed25519 ${K1}`

const key = (b64: string) => Buffer.from(b64, "base64")
const lines = (text: string) => parseKnownHosts({ path: "/kh", text })

describe("known_hosts", () => {
  it("fingerprints a key as ssh-keygen -l does, and reads its type from the key itself", () => {
    expect(fingerprintOf(key(K1))).toBe(K1_FP)
    expect(fingerprintOf(key(K2))).toBe(K2_FP)
    expect(keyTypeOf(key(EC))).toBe("ecdsa-sha2-nistp256")
  })

  it("names a host by itself on port 22 and as [host]:port elsewhere", () => {
    expect(lookupName("DB.example", undefined)).toBe("db.example")
    expect(lookupName("db.example", 22)).toBe("db.example")
    expect(lookupName("127.0.0.1", 19750)).toBe("[127.0.0.1]:19750")
  })

  it("matches plain, hashed, wildcard and negated host patterns", () => {
    expect(patternsMatch("db.example,10.0.0.3", "10.0.0.3")).toBe(true)
    expect(patternsMatch("db.example", "[db.example]:2222")).toBe(false)
    expect(patternsMatch(HASHED.split(" ")[0]!, "[db.example]:2222")).toBe(true)
    expect(patternsMatch(HASHED.split(" ")[0]!, "db.example")).toBe(false)
    expect(patternsMatch("*.example,!evil.example", "db.example")).toBe(true)
    expect(patternsMatch("*.example,!evil.example", "evil.example")).toBe(false)
    expect(patternsMatch("[10.0.0.?]:2222", "[10.0.0.7]:2222")).toBe(true)
    expect(patternsMatch("!db.example", "db.example")).toBe(false)
  })

  it("skips comments, blank lines, unknown markers and lines whose key does not parse", () => {
    const read = lines(
      [
        "# a comment",
        "",
        `@unknown-marker db.example ssh-ed25519 ${K1}`,
        `db.example ssh-rsa ${K1}`,
        "db.example ssh-ed25519 not-base64!",
        `  db.example   ssh-ed25519   ${K2}   a comment`
      ].join("\n")
    )
    expect(read.map((l) => [l.line, l.patterns, l.keyType])).toEqual([[6, "db.example", "ssh-ed25519"]])
  })

  it("a key a line names for the host is known; another key of that type is a changed key, with where the old one is", () => {
    const known = lines(`other.example ssh-ed25519 ${K2}\n${HASHED}\n`)
    expect(verdictOf(known, "[db.example]:2222", key(K1))).toMatchObject({ _tag: "known", at: { line: 2 } })
    const changed = verdictOf(known, "[db.example]:2222", key(K2))
    expect(changed).toMatchObject({ _tag: "changed", at: { file: "/kh", line: 2 } })
    expect(verdictOf(known, "new.example", key(K1))).toEqual({ _tag: "unknown", certAuthority: undefined })
  })

  it("a host known only by a key of another type is refused as changed, not taken as new", () => {
    const known = lines(`db.example ecdsa-sha2-nistp256 ${EC}\n`)
    expect(verdictOf(known, "db.example", key(K1))).toMatchObject({
      _tag: "changed",
      at: { keyType: "ecdsa-sha2-nistp256" }
    })
  })

  it("@revoked wins over a line that knows the key; @cert-authority alone leaves the host unknown, and says so", () => {
    const revoked = lines(`db.example ssh-ed25519 ${K1}\n@revoked * ssh-ed25519 ${K1}\n`)
    expect(verdictOf(revoked, "db.example", key(K1))).toMatchObject({ _tag: "revoked", at: { line: 2 } })
    const ca = lines(`@cert-authority *.example ssh-ed25519 ${K2}\n`)
    expect(verdictOf(ca, "db.example", key(K1))).toMatchObject({ _tag: "unknown", certAuthority: { line: 1 } })
  })

  it("offers the host key algorithms of the key types known for the host first", () => {
    const known = lines(`db.example ecdsa-sha2-nistp256 ${EC}\n`)
    expect(hostKeyAlgorithms(known, "db.example").slice(0, 2)).toEqual(["ecdsa-sha2-nistp256", "ssh-ed25519"])
    expect(hostKeyAlgorithms(known, "other.example")[0]).toBe("ssh-ed25519")
    expect(new Set(hostKeyAlgorithms(known, "db.example"))).toEqual(new Set(hostKeyAlgorithms([], "x")))
  })
})

describe("the host key check of an ssh:// engine", () => {
  const dirs: Array<string> = []
  const home = () => {
    const d = mkdtempSync(join(tmpdir(), "moor-known-hosts-"))
    dirs.push(d)
    return d
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it("reads ~/.ssh/known_hosts by default: a known key goes on, an unknown host is refused with its fingerprint and what to do", () => {
    const h = home()
    const check = hostKeyCheck("db.example", 2222, {}, h)
    expect(check.verify(key(K1))).toBe(false)
    const why = check.refusal() ?? ""
    expect(why).toContain(`the host key of [db.example]:2222 is not known: it offered ED25519 key ${K1_FP}`)
    expect(why).toContain(`${h}/.ssh/known_hosts (missing)`)
    expect(why).toContain(`ssh-keyscan -p 2222 -t ssh-ed25519 db.example >> ${h}/.ssh/known_hosts`)
    expect(why).toContain("accept_new: true")
    writeFileSync(join(h, "known"), `${HASHED}\n`)
    const named = hostKeyCheck("db.example", 2222, { knownHosts: join(h, "known") }, h)
    expect(named.verify(key(K1))).toBe(true)
    expect(named.refusal()).toBeUndefined()
  })

  it("accept-new records a new host's key in the file (then it is known), and still refuses a changed key, loudly", () => {
    const h = home()
    const file = join(h, "nested", "known_hosts")
    const check = hostKeyCheck("127.0.0.1", 19750, { knownHosts: file, acceptNew: true }, h)
    expect(check.verify(key(K1))).toBe(true)
    expect(readFileSync(file, "utf8")).toBe(`[127.0.0.1]:19750 ssh-ed25519 ${K1}\n`)
    expect(check.verify(key(K1))).toBe(true)
    expect(readFileSync(file, "utf8").split("\n")).toHaveLength(2)
    expect(check.verify(key(K2))).toBe(false)
    expect(check.refusal()).toMatch(
      new RegExp(
        `^HOST KEY CHANGED for \\[127\\.0\\.0\\.1\\]:19750: it offered ED25519 key ${K2_FP.replace(/[+/]/g, "\\$&")}, but ${file}:1 has ED25519 key ${K1_FP.replace(/[+/]/g, "\\$&")}\\..*accept_new does not apply to a changed key`
      )
    )
    expect(readFileSync(file, "utf8")).toBe(`[127.0.0.1]:19750 ssh-ed25519 ${K1}\n`)
  })
})
