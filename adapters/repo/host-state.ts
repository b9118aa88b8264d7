/** What the repo remembers per host: app states (the three-way sync) and restarts. */
import { Effect } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import { type AppStateRow, type AppStateTransition, syncAppStates } from "../../core/app-states.ts"
import { capText, type FailedRollout, type PullRecord, type RestartRecord } from "./records.ts"
import { chunk, edge, type Row, toAppState, toFailedRollout, toPull, toRestart } from "./rows.ts"
import type { RepoShape } from "./shape.ts"

export const makeHostState = (sql: SqlClient.SqlClient, forUpdate: Statement.Fragment, retentionMs: number) => {
  const appStates = Effect.fn("Repo.appStates")(function* (scope: string, host: string) {
    const rows = yield* sql<Row>`SELECT * FROM moor_app_states WHERE scope = ${scope} AND host = ${host} ORDER BY app`
    return rows.map(toAppState)
  }, edge("appStates"))

  const applyAppStates = Effect.fn("Repo.syncAppStates")(
    function* (
      scope: string,
      host: string,
      input: {
        readonly specApps: ReadonlyArray<string>
        readonly observed: "unreachable" | ReadonlyArray<AppStateRow>
      },
      now: number
    ) {
      const rows = yield* sql<Row>`SELECT * FROM moor_app_states WHERE scope = ${scope} AND host = ${host}${forUpdate}`
      const diff = syncAppStates({
        host,
        specApps: input.specApps,
        observed: input.observed,
        repo: rows.map(toAppState)
      })
      const inserts = diff.insert.map((r) => ({
        scope,
        host,
        app: r.app,
        state: r.state,
        spec_hash: r.specHash,
        changed_at: now
      }))
      for (const values of chunk(inserts, 200)) {
        yield* sql`INSERT INTO moor_app_states ${sql.insert(values)} ON CONFLICT (scope, host, app) DO UPDATE
        SET state = excluded.state, spec_hash = excluded.spec_hash, changed_at = excluded.changed_at`
      }
      for (const r of diff.update) {
        yield* sql`UPDATE moor_app_states SET state = ${r.state}, spec_hash = ${r.specHash}, changed_at = ${now}
        WHERE scope = ${scope} AND host = ${host} AND app = ${r.app}`
      }
      for (const part of chunk(diff.delete, 500)) {
        yield* sql`DELETE FROM moor_app_states WHERE scope = ${scope} AND host = ${host} AND app IN ${sql.in(part)}`
      }
      return diff.transitions
    },
    (self) => sql.withTransaction(self).pipe(edge("syncAppStates"))
  )

  const syncAppStatesInRepo: RepoShape["syncAppStates"] = (scope, host, input, now) =>
    input.observed === "unreachable"
      ? Effect.succeed<ReadonlyArray<AppStateTransition>>([])
      : applyAppStates(scope, host, input, now)

  const recordRestart = Effect.fn("Repo.recordRestart")(function* (restart: RestartRecord) {
    yield* sql`INSERT INTO moor_restarts ${sql.insert({
      scope: restart.scope,
      host: restart.host,
      app: restart.app,
      service: restart.service,
      at: restart.at,
      spec_hash: restart.specHash
    })} ON CONFLICT (scope, host, app, service, at) DO NOTHING`
    yield* sql`DELETE FROM moor_restarts WHERE at < ${restart.at - retentionMs}`
  }, edge("recordRestart"))

  const recentRestarts = Effect.fn("Repo.recentRestarts")(function* (scope: string, host: string, since: number) {
    const rows = yield* sql<Row>`SELECT * FROM moor_restarts
      WHERE scope = ${scope} AND host = ${host} AND at >= ${since} ORDER BY at DESC, app, service`
    return rows.map(toRestart)
  }, edge("recentRestarts"))

  const recordFailedRollout = Effect.fn("Repo.recordFailedRollout")(function* (rollout: FailedRollout) {
    const row = {
      scope: rollout.scope,
      host: rollout.host,
      app: rollout.app,
      service: rollout.service,
      spec_hash: rollout.specHash,
      at: rollout.at,
      error: capText(rollout.error)
    }
    yield* sql`INSERT INTO moor_failed_rollouts ${sql.insert(row)} ON CONFLICT (scope, host, app, service)
      DO UPDATE SET spec_hash = excluded.spec_hash, at = excluded.at, error = excluded.error`
  }, edge("recordFailedRollout"))

  const failedRollouts = Effect.fn("Repo.failedRollouts")(function* (scope: string, host: string) {
    const rows = yield* sql<Row>`SELECT * FROM moor_failed_rollouts
      WHERE scope = ${scope} AND host = ${host} ORDER BY app, service`
    return rows.map(toFailedRollout)
  }, edge("failedRollouts"))

  const clearFailedRollout = Effect.fn("Repo.clearFailedRollout")(function* (
    scope: string,
    host: string,
    app: string,
    service: string
  ) {
    yield* sql`DELETE FROM moor_failed_rollouts
      WHERE scope = ${scope} AND host = ${host} AND app = ${app} AND service = ${service}`
  }, edge("clearFailedRollout"))

  const recordPull = Effect.fn("Repo.recordPull")(function* (pull: PullRecord) {
    yield* sql`INSERT INTO moor_pulls ${sql.insert({ scope: pull.scope, host: pull.host, image: pull.image, at: pull.at })}
      ON CONFLICT (scope, host, image) DO UPDATE SET at = excluded.at`
  }, edge("recordPull"))

  const pulls = Effect.fn("Repo.pulls")(function* (scope: string, host: string) {
    const rows = yield* sql<Row>`SELECT * FROM moor_pulls WHERE scope = ${scope} AND host = ${host} ORDER BY image`
    return rows.map(toPull)
  }, edge("pulls"))

  return {
    appStates,
    syncAppStates: syncAppStatesInRepo,
    recordPull,
    pulls,
    recordRestart,
    recentRestarts,
    recordFailedRollout,
    failedRollouts,
    clearFailedRollout
  }
}
