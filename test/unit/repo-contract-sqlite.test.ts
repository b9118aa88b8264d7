/** The repository contract on SQLite: in memory, and on a temporary file. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { Repo } from "../../adapters/repo/Repo.ts"
import { repoContract } from "../support/repo/repo-contract.ts"

const dir = mkdtempSync(join(tmpdir(), "moor-repo-contract-"))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

repoContract("SQLite in memory", (options) => Repo.layerSqlite(":memory:", options))
repoContract("SQLite file", (options) => Repo.layerSqlite(join(dir, `db-${n++}`, "state.db"), options))
