/** The loader's output: what a runner needs from a spec besides the desired model itself. */
import type { Host, InvalidApp } from "../../core/model/desired.ts"
import type { SpecProblem } from "./problems.ts"

/** How to reach one host's engine (the desired model carries only host names and labels). */
export interface EngineConnection {
  readonly name: string
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`; absent: the default socket. */
  readonly endpoint?: string
  /** Absolute paths of the client certificate files. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string }
  /** `ssh://` only: how the host key is checked (`ssh:` in moor.yaml). */
  readonly ssh?: SshSettings
}

/** moor.yaml's `ssh:`: the known_hosts file (absolute) instead of ~/.ssh/known_hosts, and accept-new. */
export interface SshSettings {
  readonly knownHosts?: string
  readonly acceptNew?: boolean
}

export interface AppFile {
  readonly name: string
  /** The app's directory, absolute. */
  readonly dir: string
  /** The Compose file as shown in messages (the spec path as given, joined with the file's relative path). */
  readonly file: string
  /** What moor understood of the app's files, as Compose (`moor config`); absent when they could not be read. */
  readonly effective?: (options: { readonly showValues: boolean }) => unknown
}

/** The raw desired input for core's `decodeDesired`: plain objects, only the apps that parsed. */
export interface DesiredInput {
  readonly scope: string
  readonly hosts: ReadonlyArray<Host>
  readonly apps: ReadonlyArray<Record<string, unknown>>
}

export interface LoadedSpec {
  /** The spec root directory, absolute (for a single Compose file: its directory). */
  readonly root: string
  /** The spec as given (a directory or one Compose file), absolute, symlinks resolved: the spec's identity. */
  readonly path: string
  readonly scope: string
  /** No scope is set (moor.yaml, --scope): it is the root directory's name. */
  readonly scopeFromFolder: boolean
  readonly hosts: ReadonlyArray<Host>
  readonly engines: ReadonlyArray<EngineConnection>
  readonly input: DesiredInput
  /** Apps whose file had problems: planned as skips, while the rest of the spec still plans. */
  readonly invalid: ReadonlyArray<InvalidApp>
  /**
   * Apps whose name could not be read (their directory, Compose file or .env cannot be read, or the
   * file is not YAML): one problem each. While there are any, no app is taken for gone.
   */
  readonly unreadable: ReadonlyArray<SpecProblem>
  /** Every problem, with file, line and column (for annotations). */
  readonly problems: ReadonlyArray<SpecProblem>
  /** Things that load but deserve a look (an unset variable, an obsolete key). */
  readonly warnings: ReadonlyArray<SpecProblem>
  /** Every app found, valid or not, sorted by name. */
  readonly files: ReadonlyArray<AppFile>
}
