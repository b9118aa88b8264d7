/**
 * The live `Git` layer on throwaway repositories in a temporary directory: an "origin" (bare), the
 * spec checkout cloned from it, and another clone that pushes.
 */
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Git } from "../../runners/http/git.ts"
import { git } from "../support/git.ts"

let root: string
const sync = (dir: string, branch: string) =>
  Effect.runPromise(Git.use((g) => g.sync(dir, branch)).pipe(Effect.provide(Git.layer), Effect.result))

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "moor-http-git-"))
  git(root, "init", "--quiet", "--bare", "--initial-branch=main", "origin.git")
  git(root, "clone", "--quiet", "origin.git", "author")
  writeFileSync(join(root, "author", "moor.yaml"), "scope: one\n")
  git(join(root, "author"), "add", ".")
  git(join(root, "author"), "commit", "--quiet", "-m", "first")
  git(join(root, "author"), "push", "--quiet", "origin", "HEAD:main")
  git(root, "clone", "--quiet", "--branch", "main", "origin.git", "checkout")
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

describe("Git.layer", () => {
  it("brings the checkout to the pushed commit, keeping untracked files", async () => {
    const checkout = join(root, "checkout")
    const before = git(checkout, "rev-parse", "HEAD")
    writeFileSync(join(root, "author", "moor.yaml"), "scope: two\n")
    git(join(root, "author"), "commit", "--quiet", "-am", "second")
    git(join(root, "author"), "push", "--quiet", "origin", "HEAD:main")
    const pushed = git(join(root, "author"), "rev-parse", "HEAD")
    // A local edit is dropped (the remote is the truth), an untracked file (the state db) kept.
    writeFileSync(join(checkout, "moor.yaml"), "scope: edited\n")
    writeFileSync(join(checkout, "state.db"), "keep me")

    const result = await sync(checkout, "main")
    expect(result._tag).toBe("Success")
    if (result._tag === "Success") expect(result.success).toEqual({ before, after: pushed })
    expect(readFileSync(join(checkout, "moor.yaml"), "utf8")).toBe("scope: two\n")
    expect(readFileSync(join(checkout, "state.db"), "utf8")).toBe("keep me")
  })

  it("fails with a GitError naming the command and git's words", async () => {
    const missingBranch = await sync(join(root, "checkout"), "nope")
    expect(missingBranch._tag).toBe("Failure")
    if (missingBranch._tag === "Failure") {
      expect(missingBranch.failure._tag).toBe("GitError")
      expect(missingBranch.failure.message).toMatch(/^git fetch in .*checkout failed: .*nope/s)
    }
    const notARepo = await sync(root, "main")
    expect(notARepo._tag === "Failure" && notARepo.failure.message).toMatch(/not a git repository/)
    const option = await sync(join(root, "checkout"), "--upload-pack=touch /tmp/x")
    expect(option._tag === "Failure" && option.failure.message).toBe(
      '"--upload-pack=touch /tmp/x" is not a branch name'
    )
  })
})
