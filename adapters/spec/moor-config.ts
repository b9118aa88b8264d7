/**
 * `moor.yaml` (scope, hosts, env, profiles, ssh) and `hosts.yaml` (the hosts list alone) at the spec root.
 * Host entries: `{ name, engine, tls: { ca, cert, key } | cert_path, ssh, labels }`; certificate
 * and known_hosts paths are relative to the spec root. `env: { allow: [MOOR_NAME], env_file_dirs: [DIR] }`
 * lets the spec read moor's own variables it names, and env files in those directories outside the
 * spec (see spec-guard.ts). `ssh: { known_hosts, accept_new }` at the top of moor.yaml applies to its
 * ssh:// hosts; a host's own `ssh:` keys override it. `profiles:` enables Compose profiles.
 */
import { homedir } from "node:os"
import * as nodePath from "node:path"
import type { Host } from "../../core/model/desired.ts"
import { NAME } from "./names.ts"
import { at, Problems, type SpecProblem } from "./problems.ts"
import { bool, listOrDict, map, type Reader, readKeys, seq, sorted, stringOrList, text } from "./reader.ts"
import type { EngineConnection, SshSettings } from "./spec-types.ts"
import { parseYaml, type YNode } from "./yaml-tree.ts"

export interface DeclaredHost {
  readonly host: Host
  readonly engine: EngineConnection
  /** Compose profiles enabled on this host only. */
  readonly profiles?: ReadonlyArray<string>
  /** Certificate files to check for existence, with where they were named. */
  readonly files: ReadonlyArray<CertificateFile>
}

/** What moor.yaml lets the spec see beyond its own files (see spec-guard.ts). */
export interface EnvPolicy {
  /** `MOOR_*` variables the spec may read (interpolation, `environment` names without a value). */
  readonly allow: ReadonlyArray<string>
  /** Directories outside the spec that `env_file` entries may read from, absolute. */
  readonly envFileDirs: ReadonlyArray<string>
}

export interface MoorConfig {
  readonly scope?: string
  readonly hosts?: ReadonlyArray<DeclaredHost>
  readonly env?: EnvPolicy
  /** Compose profiles enabled for every app of the spec. */
  readonly profiles?: ReadonlyArray<string>
  readonly problems: ReadonlyArray<SpecProblem>
}

/** Variables in moor's own namespace: its settings and secrets, held back from specs. */
export const MOOR_PREFIX = "MOOR_"
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/
/** A Compose profile name, or `*` for every profile. */
export const PROFILE = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*|\*)$/

const ENGINE = /^(unix:\/\/\/.+|tcp:\/\/[^/\s:]+:\d{1,5}\/?|ssh:\/\/([^@/\s]+@)?[^/\s@:]+(:\d{1,5})?\/?)$/

const noEnv = () => undefined

/** `profiles: [a, b]` (or one name): Compose profile names, or `*` for every profile. */
const readProfiles = (r: Reader, node: YNode, path: string): ReadonlyArray<string> | undefined => {
  const list = stringOrList(r, node, path)
  const bad = list?.find((name) => !PROFILE.test(name))
  if (bad === undefined) return list
  return r.problems.fail(
    node.pos,
    path,
    `"${bad}" is not a profile name (letters, digits, '_', '.', '-'; or * for all)`
  )
}

const parseRoot = (text: string, file: string): { r: Reader; root: YNode | undefined } => {
  const problems = new Problems(file)
  const r: Reader = { problems, lookup: noEnv }
  const yaml = parseYaml(text)
  for (const e of yaml.errors) problems.fail(e.pos, "", e.message)
  return { r, root: yaml.root }
}

/** `moor.yaml`: `scope:`, `hosts:` and `env:`. */
export const parseMoorYaml = (content: string, file: string, root: string): MoorConfig => {
  const { r, root: node } = parseRoot(content, file)
  if (node === undefined) return { problems: r.problems.errors }
  const m = map(r, node, "")
  if (m === undefined) return { problems: r.problems.errors }
  let scope: string | undefined
  let hosts: ReadonlyArray<DeclaredHost> | undefined
  let env: EnvPolicy | undefined
  let profiles: ReadonlyArray<string> | undefined
  let ssh: { readonly settings: SshSettings; readonly node: YNode } | undefined
  readKeys(r, m, "", {
    read: {
      env: (e, p) => {
        env = readEnvPolicy(r, e.value, p, root)
      },
      profiles: (e, p) => {
        profiles = readProfiles(r, e.value, p)
      },
      scope: (e, p) => {
        const v = text(r, e.value, p)
        if (v === undefined) return
        if (!NAME.test(v)) {
          r.problems.fail(
            e.value.pos,
            p,
            `"${v}" is not a valid scope: lowercase a-z, 0-9, '_', '.', '-', starting with a letter or digit`
          )
        } else scope = v
      },
      hosts: (e, p) => {
        hosts = readHosts(r, e.value, p, root)
      },
      ssh: (e, p) => {
        const settings = readSsh(r, e.value, p, root)
        if (settings !== undefined) ssh = { settings, node: e.value }
      }
    }
  })
  if (ssh !== undefined && hosts === undefined) {
    r.problems.fail(
      ssh.node.pos,
      "ssh",
      "ssh: applies to the hosts declared in moor.yaml, and it declares none: declare them here (hosts:), or put ssh: on each host of hosts.yaml (the default host reads ~/.ssh/known_hosts)"
    )
  }
  const defaults = ssh?.settings
  return {
    ...(scope === undefined ? {} : { scope }),
    ...(hosts === undefined
      ? {}
      : { hosts: defaults === undefined ? hosts : hosts.map((h) => withSshDefaults(h, defaults)) }),
    ...(env === undefined ? {} : { env }),
    ...(profiles === undefined ? {} : { profiles }),
    problems: r.problems.errors
  }
}

/** The top-level `ssh:` under a host's own keys, for ssh:// engines only. */
const withSshDefaults = (h: DeclaredHost, defaults: SshSettings): DeclaredHost =>
  h.engine.endpoint?.startsWith("ssh://") === true
    ? { ...h, engine: { ...h.engine, ssh: { ...defaults, ...h.engine.ssh } } }
    : h

/** A path as written in moor.yaml: `~/...` in the home directory, relative ones from the spec root. */
const specPath = (root: string, v: string): string =>
  v === "~" || v.startsWith("~/") ? nodePath.join(homedir(), v.slice(1)) : nodePath.resolve(root, v)

/** `ssh: { known_hosts: PATH, accept_new: BOOL }`. */
const readSsh = (r: Reader, node: YNode, path: string, root: string): SshSettings | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  let knownHosts: string | undefined
  let acceptNew: boolean | undefined
  readKeys(r, m, path, {
    read: {
      known_hosts: (e, p) => {
        const v = text(r, e.value, p)
        if (v === undefined) return
        if (v.trim() === "")
          r.problems.fail(
            e.value.pos,
            p,
            "known_hosts is empty: give a file (relative to the spec root, absolute, or ~/...), or leave the key out for ~/.ssh/known_hosts"
          )
        else knownHosts = specPath(root, v.trim())
      },
      accept_new: (e, p) => {
        acceptNew = bool(r, e.value, p)
      }
    }
  })
  return {
    ...(knownHosts === undefined ? {} : { knownHosts }),
    ...(acceptNew === undefined ? {} : { acceptNew })
  }
}

/** `env: { allow: [MOOR_NAME, ...], env_file_dirs: [DIR, ...] }`; directories relative to the spec root. */
const readEnvPolicy = (r: Reader, node: YNode, path: string, root: string): EnvPolicy | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const allow: Array<string> = []
  const envFileDirs: Array<string> = []
  const items = (n: YNode, p: string, each: (item: YNode, itemPath: string) => void) =>
    seq(r, n, p)?.items.forEach((item, i) => each(item, at(p, i)))
  readKeys(r, m, path, {
    prefix: "env.",
    read: {
      allow: (e, p) =>
        items(e.value, p, (item, ip) => {
          const name = text(r, item, ip)
          if (name === undefined) return
          if (!VARIABLE.test(name))
            r.problems.fail(item.pos, ip, `"${name}" is not a variable name (letters, digits and '_')`)
          else if (!name.startsWith(MOOR_PREFIX))
            r.problems.fail(
              item.pos,
              ip,
              `${name} does not start with ${MOOR_PREFIX}: only moor's own variables are held back from the spec, so list only those (others need no allowing)`
            )
          else allow.push(name)
        }),
      env_file_dirs: (e, p) =>
        items(e.value, p, (item, ip) => {
          const dir = text(r, item, ip)
          if (dir === undefined) return
          if (dir.trim() === "")
            r.problems.fail(item.pos, ip, "the directory is empty: name one (absolute, or relative to the spec root)")
          else envFileDirs.push(nodePath.resolve(root, dir))
        })
    }
  })
  return { allow, envFileDirs }
}

/** `hosts.yaml`: a list of hosts, or `hosts:` holding one. */
export const parseHostsYaml = (content: string, file: string, root: string): MoorConfig => {
  const { r, root: node } = parseRoot(content, file)
  if (node === undefined) return { problems: r.problems.errors }
  if (node.kind === "map") {
    let hosts: ReadonlyArray<DeclaredHost> | undefined
    readKeys(r, node, "", { read: { hosts: (e, p) => (hosts = readHosts(r, e.value, p, root)) } })
    return { ...(hosts === undefined ? {} : { hosts }), problems: r.problems.errors }
  }
  const hosts = readHosts(r, node, "", root)
  return { ...(hosts === undefined ? {} : { hosts }), problems: r.problems.errors }
}

const readHosts = (r: Reader, node: YNode, path: string, root: string): ReadonlyArray<DeclaredHost> | undefined => {
  const list = seq(r, node, path)
  if (list === undefined) return undefined
  const out: Array<DeclaredHost> = []
  list.items.forEach((item, i) => {
    const h = readHost(r, item, at(path, i), root)
    if (h === undefined) return
    if (out.some((o) => o.host.name === h.host.name))
      r.problems.fail(
        item.pos,
        at(path, i),
        `host ${h.host.name} is declared twice: host names must be unique, keep one`
      )
    else out.push(h)
  })
  if (list.items.length === 0) r.problems.fail(node.pos, path, "the hosts list is empty")
  return out
}

/** A certificate file a host names: its absolute path, and where (and under which key) it is named. */
export interface CertificateFile {
  readonly path: string
  readonly line: number
  readonly column: number
  readonly key: string
}

const readHost = (r: Reader, node: YNode, path: string, root: string): DeclaredHost | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  let name: string | undefined
  let endpoint: string | undefined
  let labels: Record<string, string> | undefined
  let profiles: ReadonlyArray<string> | undefined
  let tls: EngineConnection["tls"]
  let tlsAt: YNode | undefined
  let ssh: SshSettings | undefined
  let sshAt: YNode | undefined
  const files: Array<CertificateFile> = []
  const file = (n: YNode, p: string): string | undefined => {
    const v = text(r, n, p)
    if (v === undefined) return undefined
    const abs = nodePath.resolve(root, v)
    files.push({ path: abs, line: n.pos.line, column: n.pos.column, key: p })
    return abs
  }
  readKeys(r, m, path, {
    read: {
      name: (e, p) => {
        const v = text(r, e.value, p)
        if (v === undefined) return
        if (!NAME.test(v))
          r.problems.fail(e.value.pos, p, `"${v}" is not a valid host name (lowercase a-z, 0-9, '_', '.', '-')`)
        else name = v
      },
      engine: (e, p) => {
        const v = text(r, e.value, p)
        if (v === undefined) return
        if (!ENGINE.test(v)) {
          r.problems.fail(
            e.value.pos,
            p,
            `"${v}" is not an engine address: use unix:///path, tcp://host:port or ssh://user@host`
          )
        } else endpoint = v
      },
      labels: (e, p) => {
        const kvs = listOrDict(r, e.value, p)
        if (kvs !== undefined) labels = sorted(kvs.map((kv) => [kv.key, kv.value ?? ""] as const))
      },
      profiles: (e, p) => {
        profiles = readProfiles(r, e.value, p)
      },
      tls: (e, p) => {
        tlsAt = e.value
        const t = map(r, e.value, p)
        if (t === undefined) return
        let ca: string | undefined
        let cert: string | undefined
        let key: string | undefined
        readKeys(r, t, p, {
          read: {
            ca: (x, xp) => (ca = file(x.value, xp)),
            cert: (x, xp) => (cert = file(x.value, xp)),
            key: (x, xp) => (key = file(x.value, xp))
          }
        })
        if (ca === undefined || cert === undefined || key === undefined) {
          r.problems.fail(e.value.pos, p, "tls needs ca, cert and key (paths relative to the spec root)")
        } else tls = { ca, cert, key }
      },
      ssh: (e, p) => {
        sshAt = e.value
        ssh = readSsh(r, e.value, p, root)
      },
      cert_path: (e, p) => {
        tlsAt = e.value
        const dir = text(r, e.value, p)
        if (dir === undefined) return
        const abs = nodePath.resolve(root, dir)
        tls = {
          ca: nodePath.join(abs, "ca.pem"),
          cert: nodePath.join(abs, "cert.pem"),
          key: nodePath.join(abs, "key.pem")
        }
        for (const f of Object.values(tls))
          files.push({ path: f, line: e.value.pos.line, column: e.value.pos.column, key: p })
      }
    }
  })
  if (name === undefined) {
    if (!m.entries.some((e) => e.key === "name"))
      r.problems.fail(node.pos, path, "a host needs a name: add name: to it (e.g. name: web-1)")
    return undefined
  }
  if (tls !== undefined && (endpoint === undefined || !endpoint.startsWith("tcp://"))) {
    r.problems.fail(tlsAt?.pos, path, "TLS certificates only apply to a tcp:// engine")
  }
  if (ssh !== undefined && (endpoint === undefined || !endpoint.startsWith("ssh://"))) {
    r.problems.fail(sshAt?.pos, at(path, "ssh"), "ssh: only applies to an ssh:// engine")
  }
  const host: Host = { name, ...(labels === undefined ? {} : { labels }) }
  const engine: EngineConnection = {
    name,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(tls === undefined ? {} : { tls }),
    ...(ssh === undefined ? {} : { ssh })
  }
  return { host, engine, files, ...(profiles === undefined ? {} : { profiles }) }
}
