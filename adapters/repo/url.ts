/**
 * Where the repository lives, from a URL (`MOOR_REPO`):
 * - `sqlite:PATH` (also `sqlite://PATH`, so `sqlite:///abs/state.db`): an embedded file;
 * - `postgres://USER:PASSWORD@HOST:PORT/DB` or `postgresql://...`: a shared server; an optional
 *   `?schema=NAME` keeps moor's tables in that schema (created when missing);
 * - `memory` (or `sqlite::memory:`): a throwaway database, for tests.
 */
import { Result } from "effect"
import { maskUrls } from "../../core/redact.ts"
import { RepoError } from "./errors.ts"

export type RepoTarget =
  | { readonly _tag: "sqlite"; readonly filename: string }
  | { readonly _tag: "memory" }
  | { readonly _tag: "postgres"; readonly url: string; readonly schema: string | undefined }

export const repoUrlHelp = "use sqlite:PATH, postgres://USER:PASSWORD@HOST:PORT/DB[?schema=NAME] or memory"

const schemaName = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

const bad = (url: string, what: string) =>
  Result.fail(
    new RepoError({
      op: "open",
      kind: "invalid",
      message: `repository URL "${maskUrls(url)}": ${what}; ${repoUrlHelp}`
    })
  )

export const parseRepoUrl = (raw: string): Result.Result<RepoTarget, RepoError> => {
  const url = raw.trim()
  if (url === "") return bad(url, "it is empty")
  if (url === "memory" || url === "sqlite::memory:") return Result.succeed({ _tag: "memory" })
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\//, "")
    if (path === "") return bad(url, "the SQLite file path is missing")
    return Result.succeed({ _tag: "sqlite", filename: path })
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return bad(url, "it is not a valid URL")
    }
    if (parsed.hostname === "") return bad(url, "the server host is missing")
    const schema = parsed.searchParams.get("schema") ?? undefined
    if (schema !== undefined && !schemaName.test(schema)) {
      return bad(url, `schema "${schema}" must be letters, digits and underscores, not starting with a digit`)
    }
    parsed.searchParams.delete("schema")
    return Result.succeed({ _tag: "postgres", url: parsed.toString(), schema })
  }
  return bad(url, "unsupported kind of repository")
}
