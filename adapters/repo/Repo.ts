/**
 * The `Repo` service: the memory shared by every moor runner (cli, watch, webhook, action): runs
 * and what each did, app states, restarts, and who is reconciling a host right now (leases).
 *
 * Layers, all over one implementation (make-repo.ts) and one set of migrations (migrations.ts):
 * - `Repo.layerSqlite(file)`: the embedded default, a SQLite file (Node's built-in `node:sqlite`,
 *   WAL, busy timeout; the directory is created on first use);
 * - `Repo.layerMemory`: SQLite in memory, a fresh database per build (tests);
 * - `Repo.layerPg({ url, schema? })`: PostgreSQL, the shared backend;
 * - `Repo.layerFromUrl(url)` picks one from `sqlite:PATH`, `postgres://...`, `memory`;
 *   `Repo.layerFromEnv(specRoot)` reads `MOOR_REPO`, defaulting to the spec's default SQLite file
 *   (default-location.ts: beside the spec, or outside it when the spec is a git checkout).
 *
 * Records are documented in records.ts, operations in shape.ts. Errors: `RepoError` (errors.ts).
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Context, Effect, Layer, Redacted, type Scope } from "effect"
import { Reactivity } from "effect/reactivity"
import { maskUrls } from "../../core/redact.ts"
import { SqlClient, type SqlError } from "effect/sql"
import { fromSqlError, RepoError } from "./errors.ts"
import { makeRepo, type RepoOptions } from "./make-repo.ts"
import type { RepoShape } from "./shape.ts"
import * as SqliteClient from "./sqlite/SqliteClient.ts"
import { defaultRepo } from "./default-location.ts"
import { parseRepoUrl } from "./url.ts"

export { RepoError, RepoErrorKind } from "./errors.ts"
export type * from "./records.ts"
export { capText, errorTextCap, isFinal, runTransitions } from "./records.ts"
export type { AppStateSyncRequest, RepoShape } from "./shape.ts"
export type { RepoOptions } from "./make-repo.ts"
export { parseRepoUrl, type RepoTarget } from "./url.ts"
export { defaultRepo, type DefaultRepo } from "./default-location.ts"

export interface PgRepoConfig {
  readonly url: string
  /** Keep moor's tables in this schema (created when missing), e.g. one per test run. */
  readonly schema?: string | undefined
}

const fromClient = (
  /** Shown in connection errors (a redacted URL); empty when the driver's message names it. */
  where: string,
  open: Effect.Effect<SqlClient.SqlClient, SqlError.SqlError, Scope.Scope | Reactivity.Reactivity>,
  options: RepoOptions | undefined,
  prepare: (sql: SqlClient.SqlClient) => Effect.Effect<void, SqlError.SqlError> = () => Effect.void
): Layer.Layer<Repo, RepoError> =>
  Layer.effect(
    Repo,
    Effect.gen(function* () {
      const client = yield* open
      yield* client`SELECT 1 AS ok` // connect now, so that an unreachable server is reported as such
      yield* prepare(client)
      return Repo.of(yield* makeRepo(options).pipe(Effect.provideService(SqlClient.SqlClient, client)))
    }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(fromSqlError(where === "" ? "open" : `open ${where}`, e))))
  ).pipe(Layer.provide(Reactivity.layer))

const createSchema = (schema: string) => (sql: SqlClient.SqlClient) =>
  // Two processes creating it at once: the loser's error is harmless when the schema exists.
  sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`.pipe(
    Effect.catchTag("SqlError", (e) =>
      sql<{ found: number }>`SELECT 1 AS found FROM pg_namespace WHERE nspname = ${schema}`.pipe(
        Effect.flatMap((rows) => (rows.length > 0 ? Effect.void : Effect.fail(e)))
      )
    ),
    Effect.asVoid
  )

export class Repo extends Context.Service<Repo, RepoShape>()("moor/Repo") {
  static readonly layerSqlite = (filename: string, options?: RepoOptions): Layer.Layer<Repo, RepoError> =>
    fromClient("", SqliteClient.make({ filename }), options)

  static readonly layerMemory: Layer.Layer<Repo, RepoError> = Layer.suspend(() => Repo.layerSqlite(":memory:"))

  static readonly layerPg = (config: PgRepoConfig, options?: RepoOptions): Layer.Layer<Repo, RepoError> =>
    fromClient(
      maskUrls(config.url),
      PgClient.make({
        url: Redacted.make(config.url),
        connectTimeout: "5 seconds",
        maxConnections: 4,
        applicationName: "moor",
        ...(config.schema === undefined ? {} : { startupParameters: { search_path: config.schema } })
      }),
      options,
      config.schema === undefined ? undefined : createSchema(config.schema)
    )

  static readonly layerFromUrl = (url: string, options?: RepoOptions): Layer.Layer<Repo, RepoError> => {
    const target = parseRepoUrl(url)
    if (target._tag === "Failure") return Layer.effect(Repo, Effect.fail(target.failure))
    const where = target.success
    switch (where._tag) {
      case "memory":
        return Repo.layerMemory
      case "sqlite":
        return Repo.layerSqlite(where.filename, options)
      case "postgres":
        return Repo.layerPg({ url: where.url, schema: where.schema }, options)
    }
  }

  /** `MOOR_REPO` (read through Config), default the spec's default SQLite file (default-location.ts). */
  static readonly layerFromEnv = (specRoot: string, options?: RepoOptions): Layer.Layer<Repo, RepoError> =>
    Layer.unwrap(
      Config.String("MOOR_REPO").pipe(
        Config.withDefault(defaultRepo(specRoot).url),
        Effect.map((url) => Repo.layerFromUrl(url, options)),
        Effect.mapError(
          (e) => new RepoError({ op: "open", kind: "invalid", message: `MOOR_REPO could not be read: ${e.message}` })
        )
      )
    )
}
