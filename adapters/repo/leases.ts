/**
 * Leases: who reconciles (scope, host) right now. Acquiring is one transaction (`BEGIN IMMEDIATE`
 * on SQLite, `SELECT ... FOR UPDATE` plus a conditional upsert on PostgreSQL), atomic across
 * processes; taking over an expired lease abandons the previous holder's unfinished runs there.
 */
import { Clock, Effect } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import { RepoError } from "./errors.ts"
import { capText, type LeaseRecord, type LeaseResult } from "./records.ts"
import { edge, invalid, iso, type Row, toLease } from "./rows.ts"

export interface AcquireOptions {
  /**
   * A holder known to be dead (a process of this machine that no longer exists): its lease is taken
   * over at once, as if it had expired, and its unfinished runs are abandoned.
   */
  readonly takeOverFrom?: string | undefined
}

export const makeLeases = (sql: SqlClient.SqlClient, forUpdate: Statement.Fragment) => {
  const readLease = (scope: string, host: string, lock: boolean) =>
    Effect.map(
      sql<Row>`SELECT * FROM moor_leases WHERE scope = ${scope} AND host = ${host}${lock ? forUpdate : sql.literal("")}`,
      (rows) => (rows[0] === undefined ? undefined : toLease(rows[0]))
    )

  const checkTtl = (op: string, ttlMs: number) =>
    Number.isFinite(ttlMs) && ttlMs > 0
      ? Effect.void
      : Effect.fail(invalid(op, `the lease TTL must be a positive number of milliseconds, got ${ttlMs}`))

  const acquireLease = Effect.fn("Repo.acquireLease")(
    function* (scope: string, host: string, holder: string, ttlMs: number, options?: AcquireOptions) {
      const dead = options?.takeOverFrom ?? ""
      yield* checkTtl("acquireLease", ttlMs)
      const now = yield* Clock.currentTimeMillis
      const expiresAt = now + ttlMs
      const current = yield* readLease(scope, host, true)
      const held = (lease: LeaseRecord): LeaseResult => ({
        _tag: "Held",
        heldBy: lease.holder,
        expiresAt: lease.expiresAt
      })
      if (current !== undefined && current.holder !== holder && current.expiresAt > now && current.holder !== dead) {
        return held(current)
      }
      // One conditional upsert: of two processes racing for a free or expired lease, one writes it.
      const taken = yield* sql<Row>`INSERT INTO moor_leases ${sql.insert({
        scope,
        host,
        holder,
        acquired_at: now,
        expires_at: expiresAt
      })} ON CONFLICT (scope, host) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
      acquired_at = CASE WHEN moor_leases.holder = excluded.holder THEN moor_leases.acquired_at ELSE excluded.acquired_at END
      WHERE moor_leases.holder = excluded.holder OR moor_leases.expires_at <= ${now} OR moor_leases.holder = ${dead}
      RETURNING holder`
      if (taken[0] === undefined) {
        const winner = yield* readLease(scope, host, false)
        return winner === undefined
          ? held({ scope, host, holder: "unknown", acquiredAt: now, expiresAt: now })
          : held(winner)
      }
      const previous = current !== undefined && current.holder !== holder ? current : undefined
      let abandonedRuns: ReadonlyArray<string> = []
      if (previous !== undefined) {
        const error = capText(
          previous.holder === dead
            ? `abandoned: its process (lease holder "${previous.holder}") is gone; the lease on ${scope}/${host} was taken over by "${holder}"`
            : `abandoned: its process (lease holder "${previous.holder}") stopped renewing the lease on ${scope}/${host}, ` +
                `which expired at ${iso(previous.expiresAt)} and was taken over by "${holder}"`
        )
        const rows =
          yield* sql<Row>`UPDATE moor_runs SET status = ${"abandoned"}, finished_at = ${now}, error = ${error}
        WHERE holder = ${previous.holder} AND scope = ${scope} AND host = ${host}
          AND status IN ${sql.in(["pending", "running"])} RETURNING id`
        abandonedRuns = rows.map((r) => String(r.id)).sort()
      }
      const result: LeaseResult = { _tag: "Acquired", expiresAt, previousHolder: previous?.holder, abandonedRuns }
      return result
    },
    (self) => sql.withTransaction(self).pipe(edge("acquireLease"))
  )

  const renewLease = Effect.fn("Repo.renewLease")(function* (
    scope: string,
    host: string,
    holder: string,
    ttlMs: number
  ) {
    yield* checkTtl("renewLease", ttlMs)
    const expiresAt = (yield* Clock.currentTimeMillis) + ttlMs
    const rows = yield* sql<Row>`UPDATE moor_leases SET expires_at = ${expiresAt}
      WHERE scope = ${scope} AND host = ${host} AND holder = ${holder} RETURNING holder`
    if (rows[0] === undefined) {
      const now = yield* readLease(scope, host, false)
      const who = now === undefined ? "nobody holds it" : `"${now.holder}" holds it until ${iso(now.expiresAt)}`
      return yield* new RepoError({
        op: "renewLease",
        kind: "lease-lost",
        message: `renewLease: "${holder}" no longer holds the lease on ${scope}/${host}: ${who}`
      })
    }
    return expiresAt
  }, edge("renewLease"))

  const releaseLease = Effect.fn("Repo.releaseLease")(function* (scope: string, host: string, holder: string) {
    const rows = yield* sql<Row>`DELETE FROM moor_leases
      WHERE scope = ${scope} AND host = ${host} AND holder = ${holder} RETURNING holder`
    return rows.length > 0
  }, edge("releaseLease"))

  const lease = Effect.fn("Repo.lease")(function* (scope: string, host: string) {
    return yield* readLease(scope, host, false)
  }, edge("lease"))

  return { acquireLease, renewLease, releaseLease, lease }
}
