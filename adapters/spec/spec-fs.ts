/**
 * The few file-system calls the loader makes, behind a small synchronous interface: the loader's
 * logic runs the same on node:fs and on an in-memory tree in tests. Errors come back as sentences,
 * never thrown; a missing path always starts with "missing".
 */
import * as fs from "node:fs"
import { Result } from "effect"

export interface FileStat {
  readonly kind: "file" | "dir" | "other"
  readonly size: number
}

export interface SpecFs {
  /** Follows symlinks; undefined when the path does not exist. */
  readonly stat: (path: string) => FileStat | undefined
  readonly readDir: (path: string) => Result.Result<ReadonlyArray<string>, string>
  readonly readFile: (path: string) => Result.Result<Uint8Array, string>
  /** The path with every symlink resolved; undefined when it does not exist. */
  readonly realPath: (path: string) => string | undefined
}

const reason = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code
  if (code === "ENOENT") return "missing: no such file or directory"
  if (code === "EACCES" || code === "EPERM") return "permission denied"
  if (code === "EISDIR") return "is a directory, not a file"
  if (code === "ENOTDIR") return "missing: a part of the path is not a directory"
  return e instanceof Error ? e.message : String(e)
}

export const nodeSpecFs: SpecFs = {
  stat: (path) => {
    try {
      const s = fs.statSync(path)
      return { kind: s.isFile() ? "file" : s.isDirectory() ? "dir" : "other", size: s.size }
    } catch {
      return undefined
    }
  },
  readDir: (path) => {
    try {
      return Result.succeed(fs.readdirSync(path).sort())
    } catch (e) {
      return Result.fail(reason(e))
    }
  },
  readFile: (path) => {
    try {
      return Result.succeed(fs.readFileSync(path))
    } catch (e) {
      return Result.fail(reason(e))
    }
  },
  realPath: (path) => {
    try {
      return fs.realpathSync(path)
    } catch {
      return undefined
    }
  }
}
