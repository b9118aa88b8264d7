/**
 * What a spec may see of the machine that loads it. A spec comes from git, where anyone who can
 * push writes it; moor's own settings and the machine's files are not theirs to read:
 * - `MOOR_*` variables (moor's tokens, webhook secrets, repository URLs with passwords) are held
 *   back from interpolation and from `environment` names without a value, unless moor.yaml's
 *   `env.allow` names them;
 * - files are read only inside the spec: its root and its app directories (wherever a symlink puts
 *   them), or a directory moor.yaml's `env.env_file_dirs` names. An `env_file: /etc/shadow`, or a
 *   committed symlink out of the checkout, is refused the way a hook path is (hooks.ts).
 *
 * The SpecLoader applies it around every load: the loader reads through the guarded file system
 * and the filtered environment it is given.
 */
import * as nodePath from "node:path"
import { Result } from "effect"
import { COMPOSE_FILES } from "./load.ts"
import { type EnvPolicy, MOOR_PREFIX, parseMoorYaml } from "./moor-config.ts"
import type { SpecFs } from "./spec-fs.ts"
import { checkSize, decodeText } from "./text-guard.ts"

type Env = Readonly<Record<string, string | undefined>>

const NO_POLICY: EnvPolicy = { allow: [], envFileDirs: [] }

/** What is at `path`; nothing when it is missing or cannot be read (the loader reports that). */
const statOf = (fs: SpecFs, path: string) => {
  const r = fs.stat(path)
  return Result.isSuccess(r) ? r.success : undefined
}

/** The root of a spec path as the loader takes it: the directory, or a Compose file's directory. */
const rootOf = (fs: SpecFs, given: string): string | undefined => {
  const abs = nodePath.resolve(given)
  const kind = statOf(fs, abs)?.kind
  return kind === "dir" ? abs : kind === "file" ? nodePath.dirname(abs) : undefined
}

/** moor.yaml's `env:`; none when it is missing or broken (the loader reports what is wrong with it). */
const policyOf = (fs: SpecFs, root: string): EnvPolicy => {
  const file = nodePath.join(root, "moor.yaml")
  const stat = statOf(fs, file)
  if (stat?.kind !== "file" || checkSize(stat.size) !== undefined) return NO_POLICY
  const bytes = fs.readFile(file)
  if (Result.isFailure(bytes)) return NO_POLICY
  const text = decodeText(bytes.success)
  if (Result.isFailure(text)) return NO_POLICY
  const config = parseMoorYaml(text.success, file, root)
  return config.problems.length === 0 ? (config.env ?? NO_POLICY) : NO_POLICY
}

/** The environment without moor's own variables, but those `allow` names. */
export const specEnv = (env: Env, allow: ReadonlyArray<string>): Env =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith(MOOR_PREFIX) || allow.includes(name)))

const within = (dir: string, path: string): boolean => {
  const rel = nodePath.relative(dir, path)
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${nodePath.sep}`) && !nodePath.isAbsolute(rel))
}

/** The directories a spec's files may really be in: the root, its app directories, the allowed ones. */
const specDirs = (fs: SpecFs, root: string, allowed: ReadonlyArray<string>): ReadonlyArray<string> => {
  const apps = Result.getOrElse(fs.readDir(root), () => [] as ReadonlyArray<string>)
    .filter((entry) => !entry.startsWith("."))
    .map((entry) => nodePath.join(root, entry))
    .filter((dir) => COMPOSE_FILES.some((f) => statOf(fs, nodePath.join(dir, f))?.kind === "file"))
  return [root, ...apps, ...allowed].map((dir) => fs.realPath(dir) ?? dir)
}

/** `fs`, refusing to read a file whose real path is outside `dirs()` (computed on the first read). */
const guardedFs = (fs: SpecFs, dirs: () => ReadonlyArray<string>): SpecFs => {
  let known: ReadonlyArray<string> | undefined
  return {
    ...fs,
    readFile: (path) => {
      const real = fs.realPath(path)
      if (real === undefined) return fs.readFile(path)
      known ??= dirs()
      if (known.some((dir) => within(dir, real))) return fs.readFile(path)
      return Result.fail(
        `it is outside the spec (it resolves to ${real}), and a spec reads no file outside its own directory: move the file into the spec, or allow its directory in moor.yaml with env: { env_file_dirs: [${nodePath.dirname(real)}] }`
      )
    }
  }
}

/** The file system and environment to load the spec at `given` with. */
export const guardSpec = (fs: SpecFs, given: string, env: Env): { readonly fs: SpecFs; readonly env: Env } => {
  const root = rootOf(fs, given)
  if (root === undefined) return { fs, env: specEnv(env, []) }
  const policy = policyOf(fs, root)
  return { fs: guardedFs(fs, () => specDirs(fs, root, policy.envFileDirs)), env: specEnv(env, policy.allow) }
}
