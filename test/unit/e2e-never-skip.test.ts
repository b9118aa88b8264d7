/**
 * End-to-end and gauntlet tests never skip: a missing prerequisite (a server, sshd, engine B) fails
 * the run with what is missing, because a skipped test on a broken environment is a green that lies.
 * `npm test` sets the environment up first (scripts/test-env.sh). This reads the test files (and the
 * support they share) for the ways a test can quietly not run.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const dirs = ["test/e2e", "test/gauntlet", "test/support"]
const files = dirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(d, f))
)

const forbidden: ReadonlyArray<{ readonly what: string; readonly pattern: RegExp }> = [
  { what: "a skipped test or block", pattern: /\b(describe|it|test|suite)(\.\w+)*\.(skip|skipIf|runIf|todo)\b/ },
  { what: "a test skipping itself", pattern: /\bctx\.skip\(|\bcontext\.skip\(|\.skip\(\s*\)/ },
  { what: "a note that tests are skipped", pattern: /console\.(warn|log|info)\(\s*[`"']skipping/i }
]

describe("e2e and gauntlet tests never skip", () => {
  it("finds the test files", () => {
    expect(files.length).toBeGreaterThan(10)
  })

  it("no file skips a test or a block, conditionally or not", () => {
    const found: Array<string> = []
    for (const file of files) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const f of forbidden) if (f.pattern.test(line)) found.push(`${file}:${i + 1}: ${f.what}: ${line.trim()}`)
        })
    }
    expect(found).toEqual([])
  })
})
