/**
 * An `on_start` hook script lives in the provider app's directory. Its path must stay inside that
 * directory: not absolute, no `..` out of it, no symlink resolving outside it, and it must exist.
 */
import * as nodePath from "node:path"
import { Result } from "effect"
import { readWhole, type SpecFs } from "./spec-fs.ts"
import { decodeText } from "./text-guard.ts"

export interface ResolvedHook {
  /** The path as a clean relative POSIX path (`hooks/add-user.sh`). */
  readonly script: string
  readonly content: string
}

/**
 * Reads the hook `script` of the provider whose directory is `providerDir` (absolute);
 * `shownDir` names that directory in messages.
 */
export const resolveHook = (
  fs: SpecFs,
  providerDir: string,
  shownDir: string,
  script: string
): Result.Result<ResolvedHook, string> => {
  if (script.trim() === "") return Result.fail("the hook path is empty")
  if (nodePath.isAbsolute(script) || /^[A-Za-z]:[\\/]/.test(script)) {
    return Result.fail(
      `the hook path "${script}" is absolute: write it relative to the provider's directory ${shownDir}`
    )
  }
  const clean = nodePath.posix.normalize(script.replaceAll("\\", "/"))
  if (clean === ".." || clean.startsWith("../")) {
    return Result.fail(
      `the hook path "${script}" leaves the provider's directory ${shownDir}: keep the script inside it`
    )
  }
  const abs = nodePath.join(providerDir, clean)
  const stat = fs.stat(abs)
  if (Result.isFailure(stat)) return Result.fail(`the hook script "${script}" in ${shownDir}: ${stat.failure}`)
  if (stat.success === undefined)
    return Result.fail(
      `the hook script "${script}" does not exist in ${shownDir}: add it there, or correct the path (relative to that directory)`
    )
  const realDir = fs.realPath(providerDir) ?? providerDir
  const realFile = fs.realPath(abs) ?? abs
  const inside = nodePath.relative(realDir, realFile)
  if (inside === "" || inside.startsWith("..") || nodePath.isAbsolute(inside)) {
    return Result.fail(
      `the hook path "${script}" resolves (through a symlink) outside the provider's directory ${shownDir}: keep the script inside it`
    )
  }
  if (stat.success.kind !== "file")
    return Result.fail(`the hook path "${script}" in ${shownDir} is not a file: name the script itself`)
  const bytes = readWhole(fs, abs)
  if (Result.isFailure(bytes)) return Result.fail(`the hook script "${script}" in ${shownDir}: ${bytes.failure}`)
  const content = decodeText(bytes.success)
  if (Result.isFailure(content)) return Result.fail(`the hook script "${script}" in ${shownDir}: ${content.failure}`)
  return Result.succeed({ script: clean, content: content.success })
}
