/**
 * The same repository contract on the two real backends: a SQLite file and the PostgreSQL server
 * at MOOR_TEST_PG_URL (one schema per test, dropped at the end).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { Repo } from "../../adapters/repo/Repo.ts"
import { dropTestSchemas, requirePg, uniqueSchema, urlWithSchema } from "../support/repo/pg.ts"
import { repoContract } from "../support/repo/repo-contract.ts"

const dir = mkdtempSync(join(tmpdir(), "moor-repo-e2e-"))
let n = 0

beforeAll(requirePg)
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  await dropTestSchemas()
})

repoContract("SQLite file", (options) => Repo.layerSqlite(join(dir, `db-${n++}`, "state.db"), options))
repoContract("PostgreSQL", (options) => Repo.layerFromUrl(urlWithSchema(uniqueSchema()), options))
