/**
 * Where the state lives when neither `--repo` nor `MOOR_REPO` says:
 * - a spec in an ordinary directory: `<spec>/.moor/state.db`, beside it, as always;
 * - a spec inside a git checkout: outside the checkout, where no `git reset --hard` (moor serve
 *   updates its checkout that way) and no pushed `.moor/` can overwrite it: moor's state directory,
 *   `$STATE_DIRECTORY` (systemd's `StateDirectory=moor`: /var/lib/moor), else
 *   `$XDG_STATE_HOME/moor`, else `~/.local/state/moor`; one folder per spec, named after it and a
 *   digest of its path (`shop-3f2a9c1b7d4e/state.db`);
 * - a checkout whose `<spec>/.moor/state.db` exists while nothing is at the new place yet: that
 *   file is kept in use (its runs and states are not lost), and `note` says where it should go.
 * Every runner (CLI, watch, serve, the Action) asks here, so they share one state for one spec.
 */
import { createHash } from "node:crypto"
import { existsSync, realpathSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"

export interface DefaultRepo {
  /** `sqlite:PATH`. */
  readonly url: string
  /** What a person should know about it, when there is something (an old file kept in use). */
  readonly note?: string
}

type Env = Readonly<Record<string, string | undefined>>

/** The state database inside a spec directory: the default outside git checkouts, and before. */
export const inSpecStateFile = (specRoot: string): string =>
  join(specRoot.replace(/\/+$/, "") || "/", ".moor", "state.db")

/** True when `dir` or a directory above it holds `.git` (a work tree, or a worktree's `.git` file). */
export const inGitCheckout = (dir: string): boolean => {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return true
    if (dirname(d) === d) return false
  }
}

/** moor's state directory on this machine. */
export const stateDirectory = (env: Env): string => {
  const systemd = env.STATE_DIRECTORY?.split(":")[0]
  if (systemd !== undefined && systemd !== "") return systemd
  if (env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== "") return join(env.XDG_STATE_HOME, "moor")
  if (env.HOME !== undefined && env.HOME !== "") return join(env.HOME, ".local", "state", "moor")
  return "/var/lib/moor"
}

const realOrResolved = (dir: string): string => {
  try {
    return realpathSync(dir)
  } catch {
    return resolve(dir)
  }
}

/** The state database of a spec in a checkout: in the state directory, one folder per spec path. */
export const checkoutStateFile = (specRoot: string, env: Env): string => {
  const path = realOrResolved(specRoot)
  const name = (basename(path).replace(/[^A-Za-z0-9_.-]+/g, "-") || "spec").slice(0, 40)
  const digest = createHash("sha256").update(path).digest("hex").slice(0, 12)
  return join(stateDirectory(env), `${name}-${digest}`, "state.db")
}

/** The default repository of the spec at `specRoot` (see the module's comment). */
export const defaultRepo = (specRoot: string, env: Env = process.env): DefaultRepo => {
  const beside = inSpecStateFile(specRoot)
  if (!inGitCheckout(specRoot)) return { url: `sqlite:${beside}` }
  const outside = checkoutStateFile(specRoot, env)
  if (existsSync(outside) || !existsSync(beside)) return { url: `sqlite:${outside}` }
  return {
    url: `sqlite:${beside}`,
    note: `the state is kept in ${beside}, inside a git checkout, where a pushed .moor/ or a git reset --hard (moor serve) can overwrite it; moor keeps using it until it is moved: stop moor, then mkdir -p ${dirname(outside)} && mv ${beside}* ${dirname(outside)}/ (or set MOOR_REPO)`
  }
}
