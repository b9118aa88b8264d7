/**
 * The repository's schema, one set of migrations for SQLite and PostgreSQL (the DDL is plain SQL
 * both accept: TEXT and BIGINT columns, composite primary keys). Applied by `effect/sql`'s Migrator,
 * which records them in `moor_migrations` and runs only the pending ones, in a transaction: opening
 * the same database twice, or from two processes at once, is safe. Never edit a shipped migration;
 * add the next one.
 *
 * Times are epoch milliseconds (BIGINT: PostgreSQL returns them as BigInt, the repo converts).
 */
import { Effect } from "effect"
import { Migrator, SqlClient } from "effect/sql"

export const migrationsTable = "moor_migrations"

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE moor_runs (
    id TEXT PRIMARY KEY,
    trigger TEXT NOT NULL,
    scope TEXT NOT NULL,
    host TEXT NOT NULL,
    holder TEXT,
    status TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    plan_summary TEXT,
    error TEXT
  )`
  yield* sql`CREATE INDEX moor_runs_by_time ON moor_runs (started_at, id)`
  yield* sql`CREATE INDEX moor_runs_by_place ON moor_runs (scope, host, started_at)`
  yield* sql`CREATE INDEX moor_runs_by_holder ON moor_runs (holder, status)`
  yield* sql`CREATE TABLE moor_run_actions (
    run_id TEXT NOT NULL REFERENCES moor_runs (id) ON DELETE CASCADE,
    action_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    host TEXT NOT NULL,
    app TEXT NOT NULL,
    service TEXT,
    reason TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, action_id)
  )`
  yield* sql`CREATE TABLE moor_app_states (
    scope TEXT NOT NULL,
    host TEXT NOT NULL,
    app TEXT NOT NULL,
    state TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (scope, host, app)
  )`
  yield* sql`CREATE TABLE moor_restarts (
    scope TEXT NOT NULL,
    host TEXT NOT NULL,
    app TEXT NOT NULL,
    service TEXT NOT NULL,
    at BIGINT NOT NULL,
    spec_hash TEXT NOT NULL,
    PRIMARY KEY (scope, host, app, service, at)
  )`
  yield* sql`CREATE INDEX moor_restarts_by_time ON moor_restarts (at)`
  yield* sql`CREATE TABLE moor_leases (
    scope TEXT NOT NULL,
    host TEXT NOT NULL,
    holder TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, host)
  )`
})

/** Replacements that failed and were rolled back: not tried again while their spec is unchanged. */
const failedRollouts = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE moor_failed_rollouts (
    scope TEXT NOT NULL,
    host TEXT NOT NULL,
    app TEXT NOT NULL,
    service TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    at BIGINT NOT NULL,
    error TEXT NOT NULL,
    PRIMARY KEY (scope, host, app, service)
  )`
})

/** The images moor pulled, per host, and when last (pull_policy daily, weekly, every_N). */
const pulls = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE moor_pulls (
    scope TEXT NOT NULL,
    host TEXT NOT NULL,
    image TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (scope, host, image)
  )`
})

export const migrations = Migrator.fromRecord({
  "1_initial": initial,
  "2_failed_rollouts": failedRollouts,
  "3_pulls": pulls
})

/** Applies the pending migrations; returns the ones it applied. */
export const migrate = Migrator.make({})({ loader: migrations, table: migrationsTable })
