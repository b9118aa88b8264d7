/** `git` in a directory for tests: a fixed author, no user or system configuration. */
import { execFileSync } from "node:child_process"

export const git = (cwd: string, ...args: Array<string>): string =>
  execFileSync("git", ["-c", "user.name=moor test", "-c", "user.email=test@moor.invalid", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" }
  }).trim()
