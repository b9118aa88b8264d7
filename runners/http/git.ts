/**
 * `Git`: brings the spec checkout to what a push left on the remote branch. The live layer runs
 * `git` (child_process, no shell, bounded in time, never prompting); the test layer runs a function
 * of the test's choosing (e.g. one that rewrites files of the spec, as a pull would).
 */
import { Context, Effect, Layer, Schema } from "effect"
import { execFile } from "node:child_process"
import { maskUrls } from "../../core/redact.ts"

export class GitError extends Schema.TaggedError<GitError>()("GitError", {
  op: Schema.String,
  dir: Schema.String,
  message: Schema.String
}) {}

export interface SyncResult {
  /** The commit checked out before, and after. */
  readonly before: string
  readonly after: string
}

export interface GitShape {
  /**
   * `git fetch origin +refs/heads/<branch>:refs/remotes/origin/<branch>`, then
   * `git reset --hard origin/<branch>` in `dir`. Untracked files are kept, unless the new commit
   * tracks the same path: the default state of a checkout is kept outside it (default-location.ts).
   */
  readonly sync: (dir: string, branch: string) => Effect.Effect<SyncResult, GitError>
}

const GIT_TIMEOUT_MS = 120_000

const runGit = (dir: string, op: string, args: ReadonlyArray<string>) =>
  Effect.callback<string, GitError>((resume, signal) => {
    execFile(
      "git",
      ["-C", dir, ...args],
      {
        timeout: GIT_TIMEOUT_MS,
        signal,
        maxBuffer: 4 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true", LC_ALL: "C" }
      },
      (error, stdout, stderr) => {
        if (error === null) return resume(Effect.succeed(stdout.trim()))
        const text = `${stderr}`.trim().split("\n").slice(-5).join("\n")
        const why = error.killed === true ? `timed out after ${GIT_TIMEOUT_MS / 1000} s` : text || error.message
        // git names the remote in its errors, with the credentials a URL may hold.
        resume(Effect.fail(new GitError({ op, dir, message: maskUrls(`git ${op} in ${dir} failed: ${why}`) })))
      }
    )
  })

const live: GitShape = {
  sync: Effect.fn("Git.sync")(function* (dir: string, branch: string) {
    if (branch.startsWith("-") || branch.includes(".."))
      return yield* new GitError({ op: "fetch", dir, message: `"${branch}" is not a branch name` })
    const before = yield* runGit(dir, "rev-parse", ["rev-parse", "--verify", "HEAD"])
    yield* runGit(dir, "fetch", [
      "fetch",
      "--quiet",
      "--no-tags",
      "origin",
      `+refs/heads/${branch}:refs/remotes/origin/${branch}`
    ])
    yield* runGit(dir, "reset", ["reset", "--quiet", "--hard", `refs/remotes/origin/${branch}`])
    const after = yield* runGit(dir, "rev-parse", ["rev-parse", "--verify", "HEAD"])
    return { before, after }
  })
}

export class Git extends Context.Service<Git, GitShape>()("moor/Git") {
  static readonly layer: Layer.Layer<Git> = Layer.succeed(Git, Git.of(live))
  /** `sync` runs `f` instead of git. */
  static readonly layerTest = (f: GitShape["sync"]): Layer.Layer<Git> => Layer.succeed(Git, Git.of({ sync: f }))
}
