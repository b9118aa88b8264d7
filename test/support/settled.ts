/**
 * A spec written by a test has just changed, and the loader waits for files changed within the last
 * `SETTLE_MS` to stand still (adapters/spec/SpecLoader.ts). Tests that time their passes, or run on
 * the TestClock, date their spec back instead: as if it had been written a minute ago.
 */
import { readdirSync, utimesSync } from "node:fs"
import { join } from "node:path"

export const settleTree = (dir: string): void => {
  const then = new Date(Date.now() - 60_000)
  const visit = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) visit(join(path, entry.name))
      else if (entry.isFile()) utimesSync(join(path, entry.name), then, then)
    }
    utimesSync(path, then, then)
  }
  visit(dir)
}
