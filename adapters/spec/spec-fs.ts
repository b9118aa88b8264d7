/**
 * The few file-system calls the loader makes, behind a small synchronous interface: the loader's
 * logic runs the same on node:fs and on an in-memory tree in tests (./spec-fs-memory.ts). Errors
 * come back as sentences, never thrown. Nothing there and something that cannot be read are kept
 * apart: a missing path always starts with "missing"; a broken symlink, a permission denied or an
 * I/O error is a failure of its own, so that what cannot be read is never taken for absent.
 */
import * as fs from "node:fs"
import { Result } from "effect"
import { checkSize } from "./text-guard.ts"

export interface FileStat {
  readonly kind: "file" | "dir" | "other"
  readonly size: number
  /** Changes whenever the file is written, replaced or (a directory) gains or loses an entry. */
  readonly stamp: string
  /** When the content last changed: epoch ms on the file system's clock. */
  readonly modifiedMs: number
}

export interface SpecFs {
  /**
   * Follows symlinks. Success: the path's facts, or undefined when nothing is there. Failure: the
   * path is there, or may be, and cannot be read (a broken symlink, permission denied, an I/O error).
   */
  readonly stat: (path: string) => Result.Result<FileStat | undefined, string>
  readonly readDir: (path: string) => Result.Result<ReadonlyArray<string>, string>
  readonly readFile: (path: string) => Result.Result<Uint8Array, string>
  /** The path with every symlink resolved; undefined when it does not exist. */
  readonly realPath: (path: string) => string | undefined
}

export const MISSING = "missing: no such file or directory"

/** How many times a file that changes while it is read is read again before moor gives up on it. */
export const READ_TRIES = 3

export const changedWhileRead = (tries: number): string =>
  `the file changed while it was read (${tries} times in a row): moor leaves it alone until it stays the same; if something rewrites it, let it finish`

const codeOf = (e: unknown): unknown => (e as { code?: unknown } | null)?.code

/** A path that does not resolve: missing, unless it is a symlink whose target is missing. */
const notFound = (path: string): Result.Result<undefined, string> => {
  try {
    if (fs.lstatSync(path).isSymbolicLink())
      return Result.fail(
        `a broken symbolic link (to ${fs.readlinkSync(path)}): its target does not exist; restore it, or remove the link`
      )
  } catch {
    // Nothing at all there.
  }
  return Result.succeed(undefined)
}

const reason = (e: unknown): string => {
  const code = codeOf(e)
  if (code === "ENOENT") return MISSING
  if (code === "EACCES" || code === "EPERM") return "permission denied: moor cannot read it (check its owner and mode)"
  if (code === "EISDIR") return "is a directory, not a file"
  if (code === "ENOTDIR") return "missing: a part of the path is not a directory"
  if (code === "ELOOP") return "a loop of symbolic links: it resolves to itself"
  if (code === "EIO") return "an I/O error while reading it"
  return e instanceof Error ? e.message : String(e)
}

const isNotFound = (e: unknown): boolean => codeOf(e) === "ENOENT" || codeOf(e) === "ENOTDIR"

export const nodeSpecFs: SpecFs = {
  stat: (path) => {
    try {
      const s = fs.statSync(path, { bigint: true })
      return Result.succeed({
        kind: s.isFile() ? "file" : s.isDirectory() ? "dir" : "other",
        size: Number(s.size),
        stamp: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
        modifiedMs: Number(s.mtimeMs)
      })
    } catch (e) {
      return isNotFound(e) ? notFound(path) : Result.fail(reason(e))
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
      if (isNotFound(e)) {
        const broken = notFound(path)
        if (Result.isFailure(broken)) return Result.fail(broken.failure)
      }
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

/**
 * A whole regular file, read once it is the same before and after the read (same stamp, as many
 * bytes as it had): a file rewritten while it is read is read again, up to `READ_TRIES` times, then
 * refused, never taken half-written. Refuses what is missing, not a file, or over the size limit.
 */
export const readWhole = (specFs: SpecFs, path: string): Result.Result<Uint8Array, string> => {
  for (let i = 0; i < READ_TRIES; i++) {
    const before = specFs.stat(path)
    if (Result.isFailure(before)) return Result.fail(before.failure)
    const s = before.success
    if (s === undefined) return Result.fail(MISSING)
    if (s.kind !== "file") return Result.fail(s.kind === "dir" ? "is a directory, not a file" : "not a regular file")
    const tooBig = checkSize(s.size)
    if (tooBig !== undefined) return Result.fail(tooBig)
    const bytes = specFs.readFile(path)
    if (Result.isFailure(bytes)) return bytes
    const after = specFs.stat(path)
    if (Result.isSuccess(after) && after.success?.stamp === s.stamp && bytes.success.byteLength === s.size) return bytes
  }
  return Result.fail(changedWhileRead(READ_TRIES))
}
