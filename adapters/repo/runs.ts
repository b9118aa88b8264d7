/** Runs and their actions. */
import { Clock, Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import { RepoError } from "./errors.ts"
import {
  capText,
  isFinal,
  type ListRunsQuery,
  type NewRun,
  type RunActionInput,
  type RunDetail,
  runTransitions,
  type RunUpdate
} from "./records.ts"
import { brief, chunk, edge, invalid, num, type Row, toAction, toRun } from "./rows.ts"

export const makeRuns = (sql: SqlClient.SqlClient) => {
  const readRun = (id: string) =>
    Effect.map(sql<Row>`SELECT * FROM moor_runs WHERE id = ${id}`, (rows) =>
      rows[0] === undefined ? undefined : toRun(rows[0])
    )

  const createRun = Effect.fn("Repo.createRun")(function* (run: NewRun) {
    const status = run.status ?? "pending"
    const row = {
      id: run.id,
      trigger: run.trigger,
      scope: run.scope,
      host: run.host,
      holder: run.holder ?? null,
      status,
      started_at: run.startedAt,
      finished_at: null,
      plan_summary: run.planSummary ?? null,
      error: null
    }
    yield* sql`INSERT INTO moor_runs ${sql.insert(row)}`.pipe(
      Effect.mapError((e): RepoError | SqlError.SqlError =>
        e.reason._tag === "UniqueViolation" || e.reason._tag === "ConstraintError"
          ? new RepoError({
              op: "createRun",
              kind: "conflict",
              message: `createRun: a run with id "${run.id}" already exists; run ids must be unique`
            })
          : e
      )
    )
    return toRun(row)
  }, edge("createRun"))

  const setRunStatus = Effect.fn("Repo.setRunStatus")(function* (id: string, update: RunUpdate) {
    const current = yield* readRun(id)
    if (current === undefined) {
      return yield* new RepoError({ op: "setRunStatus", kind: "not-found", message: `setRunStatus: no run "${id}"` })
    }
    if (!runTransitions[current.status].includes(update.status)) {
      const why = isFinal(current.status)
        ? `it already ended as ${current.status}${current.error === undefined ? "" : ` (${brief(current.error)})`}`
        : `allowed from ${current.status}: ${runTransitions[current.status].join(", ")}`
      return yield* new RepoError({
        op: "setRunStatus",
        kind: "illegal-transition",
        message: `setRunStatus: run "${id}" cannot go from ${current.status} to ${update.status}; ${why}`
      })
    }
    const finishedAt = isFinal(update.status) ? (update.at ?? (yield* Clock.currentTimeMillis)) : null
    const error = update.error === undefined ? (current.error ?? null) : capText(update.error)
    const planSummary = update.planSummary ?? current.planSummary ?? null
    // Conditional on the status read: a concurrent change (an abandonment) wins and is reported.
    const changed = yield* sql<Row>`UPDATE moor_runs
      SET status = ${update.status}, finished_at = ${finishedAt}, error = ${error}, plan_summary = ${planSummary}
      WHERE id = ${id} AND status = ${current.status} RETURNING *`
    if (changed[0] === undefined) {
      const now = yield* readRun(id)
      return yield* new RepoError({
        op: "setRunStatus",
        kind: "illegal-transition",
        message: `setRunStatus: run "${id}" changed to ${now?.status ?? "deleted"} meanwhile; not set to ${update.status}`
      })
    }
    return toRun(changed[0])
  }, edge("setRunStatus"))

  const getRun = Effect.fn("Repo.getRun")(function* (id: string) {
    const run = yield* readRun(id)
    if (run === undefined) return undefined
    const actions = yield* sql<Row>`SELECT * FROM moor_run_actions WHERE run_id = ${id} ORDER BY seq`
    const detail: RunDetail = { run, actions: actions.map(toAction) }
    return detail
  }, edge("getRun"))

  const listRuns = Effect.fn("Repo.listRuns")(function* (query: ListRunsQuery) {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 10_000) {
      return yield* invalid("listRuns", `limit must be an integer from 1 to 10000, got ${query.limit}`)
    }
    const where = sql.and([
      ...(query.scope === undefined ? [] : [sql`scope = ${query.scope}`]),
      ...(query.host === undefined ? [] : [sql`host = ${query.host}`])
    ])
    const rows = yield* sql<Row>`SELECT * FROM moor_runs WHERE ${where}
      ORDER BY started_at DESC, id DESC LIMIT ${query.limit}`
    return rows.map(toRun)
  }, edge("listRuns"))

  const recordActions = Effect.fn("Repo.recordActions")(
    function* (runId: string, actions: ReadonlyArray<RunActionInput>) {
      const run = yield* readRun(runId)
      if (run === undefined) {
        return yield* new RepoError({
          op: "recordActions",
          kind: "not-found",
          message: `recordActions: no run "${runId}"; create the run first`
        })
      }
      const [top] = yield* sql<Row>`SELECT COALESCE(MAX(seq), -1) AS seq FROM moor_run_actions WHERE run_id = ${runId}`
      const base = num(top?.seq ?? -1) + 1
      // The same action id twice in one batch: the last one wins (one statement cannot upsert a row twice on PostgreSQL).
      const latest = [...new Map(actions.map((a) => [a.actionId, a] as const)).values()]
      const rows = latest.map((a, i) => ({
        run_id: runId,
        action_id: a.actionId,
        seq: base + i,
        kind: a.kind,
        host: a.host,
        app: a.app,
        service: a.service ?? null,
        reason: a.reason,
        outcome: a.outcome,
        error: a.error === undefined ? null : capText(a.error),
        started_at: a.startedAt,
        finished_at: a.finishedAt
      }))
      for (const part of chunk(rows, 200)) {
        // Recording an action again (a retried pass) replaces its outcome and keeps its place.
        yield* sql`INSERT INTO moor_run_actions ${sql.insert(part)}
        ON CONFLICT (run_id, action_id) DO UPDATE SET kind = excluded.kind, host = excluded.host,
          app = excluded.app, service = excluded.service, reason = excluded.reason, outcome = excluded.outcome,
          error = excluded.error, started_at = excluded.started_at, finished_at = excluded.finished_at`
      }
    },
    (self) => sql.withTransaction(self).pipe(edge("recordActions"))
  )

  return { createRun, setRunStatus, getRun, listRuns, recordActions }
}
