/**
 * PostgreSQL for the repository's e2e tests: the server at `MOOR_TEST_PG_URL` (default the one
 * `scripts/test-env.sh postgres` starts), one schema per test so that runs never collide, and a
 * cleanup that drops every schema of this test run.
 */
import { randomBytes } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { Reactivity } from "effect/reactivity"

export const pgTestUrl = process.env.MOOR_TEST_PG_URL ?? "postgres://moor:moor@127.0.0.1:55432/moor"

/** A prefix unique to this process: every schema it makes starts with it. */
export const schemaPrefix = `moor_t_${randomBytes(4).toString("hex")}`
let counter = 0
export const uniqueSchema = (): string => `${schemaPrefix}_${counter++}`

/** `postgres://...?schema=NAME`, for `Repo.layerFromUrl` and the probe processes. */
export const urlWithSchema = (schema: string): string =>
  `${pgTestUrl}${pgTestUrl.includes("?") ? "&" : "?"}schema=${schema}`

const withPg = <A, E>(f: (sql: PgClient.PgClient) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.flatMap(PgClient.make({ url: Redacted.make(pgTestUrl), maxConnections: 1, connectTimeout: "3 seconds" }), f)
  ).pipe(Effect.provide(Reactivity.layer))

/** Fails with a message that says how to start the server when it does not answer. */
export const requirePg = (): Promise<void> =>
  Effect.runPromise(
    withPg((sql) => sql`SELECT 1 AS ok`).pipe(
      Effect.asVoid,
      Effect.mapError(
        (e) =>
          new Error(
            `PostgreSQL does not answer at MOOR_TEST_PG_URL (${pgTestUrl.replace(/:[^:@/]*@/, ":***@")}): ${e.message}. ` +
              "Start it with `bash scripts/test-env.sh postgres`."
          )
      )
    )
  )

/** Drops the schemas this process created. */
export const dropTestSchemas = (): Promise<void> =>
  Effect.runPromise(
    withPg((sql) =>
      Effect.gen(function* () {
        const rows = yield* sql<{ nspname: string }>`SELECT nspname FROM pg_namespace
          WHERE starts_with(nspname, ${`${schemaPrefix}_`})`
        for (const row of rows) yield* sql`DROP SCHEMA ${sql(row.nspname)} CASCADE`
      })
    )
  )
