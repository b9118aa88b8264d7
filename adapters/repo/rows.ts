/**
 * Reading rows back (PostgreSQL returns BIGINT as BigInt or text, SQLite as numbers; an unknown
 * literal means a newer moor wrote the row) and the small helpers every part of the repo shares.
 */
import { DateTime, Effect, Schema } from "effect"
import type { SqlError } from "effect/sql"
import { AppState } from "../../core/model/plan.ts"
import { fromSqlError, RepoError } from "./errors.ts"
import {
  ActionOutcome,
  type AppStateRecord,
  type FailedRollout,
  type LeaseRecord,
  type PullRecord,
  type RestartRecord,
  type RunActionRecord,
  type RunRecord,
  RunStatus,
  RunTrigger
} from "./records.ts"

export type Row = Readonly<Record<string, unknown>>

export const num = (v: unknown): number => (typeof v === "number" ? v : Number(v))
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : num(v))
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v))

const literal =
  <A extends string>(schema: Schema.Codec<A>, what: string) =>
  (v: unknown): A => {
    if (Schema.is(schema)(v)) return v
    throw new RepoError({
      op: "decode",
      kind: "failed",
      message: `the repository holds an unknown ${what} ${JSON.stringify(v)}: was it written by a newer moor?`
    })
  }
const asStatus = literal(RunStatus, "run status")
const asTrigger = literal(RunTrigger, "run trigger")
const asOutcome = literal(ActionOutcome, "action outcome")
const asAppState = literal(AppState, "app state")

export const toRun = (r: Row): RunRecord => ({
  id: String(r.id),
  trigger: asTrigger(r.trigger),
  scope: String(r.scope),
  host: String(r.host),
  holder: optStr(r.holder),
  status: asStatus(r.status),
  startedAt: num(r.started_at),
  finishedAt: optNum(r.finished_at),
  planSummary: optStr(r.plan_summary),
  error: optStr(r.error)
})

export const toAction = (r: Row): RunActionRecord => ({
  runId: String(r.run_id),
  actionId: String(r.action_id),
  kind: String(r.kind),
  host: String(r.host),
  app: String(r.app),
  service: optStr(r.service),
  reason: String(r.reason),
  outcome: asOutcome(r.outcome),
  error: optStr(r.error),
  startedAt: num(r.started_at),
  finishedAt: num(r.finished_at),
  durationMs: num(r.finished_at) - num(r.started_at)
})

export const toAppState = (r: Row): AppStateRecord => ({
  scope: String(r.scope),
  host: String(r.host),
  app: String(r.app),
  state: asAppState(r.state),
  specHash: String(r.spec_hash),
  changedAt: num(r.changed_at)
})

export const toRestart = (r: Row): RestartRecord => ({
  scope: String(r.scope),
  host: String(r.host),
  app: String(r.app),
  service: String(r.service),
  at: num(r.at),
  specHash: String(r.spec_hash)
})

export const toPull = (r: Row): PullRecord => ({
  scope: String(r.scope),
  host: String(r.host),
  image: String(r.image),
  at: num(r.at)
})

export const toLease = (r: Row): LeaseRecord => ({
  scope: String(r.scope),
  host: String(r.host),
  holder: String(r.holder),
  acquiredAt: num(r.acquired_at),
  expiresAt: num(r.expires_at)
})

export const iso = (ms: number): string => DateTime.formatIso(DateTime.makeUnsafe(ms))

/** SQLite allows 32766 bound values per statement; 12 columns x 200 rows stays far below. */
export const chunk = <A>(rows: ReadonlyArray<A>, size: number): Array<readonly [A, ...Array<A>]> => {
  const out: Array<readonly [A, ...Array<A>]> = []
  for (let i = 0; i < rows.length; i += size) {
    const [first, ...rest] = rows.slice(i, i + size)
    if (first !== undefined) out.push([first, ...rest])
  }
  return out
}

export const brief = (text: string): string => (text.length <= 160 ? text : `${text.slice(0, 157)}...`)

export const invalid = (op: string, message: string) =>
  new RepoError({ op, kind: "invalid", message: `${op}: ${message}` })

/** Translates a SqlError once, at the end of each operation; decoding failures become RepoErrors too. */
export const edge =
  (op: string) =>
  <A, R>(self: Effect.Effect<A, RepoError | SqlError.SqlError, R>): Effect.Effect<A, RepoError, R> =>
    self.pipe(
      Effect.catchTag("SqlError", (e) => Effect.fail(fromSqlError(op, e))),
      Effect.catchDefect((defect) => (defect instanceof RepoError ? Effect.fail(defect) : Effect.die(defect)))
    )

export const toFailedRollout = (r: Row): FailedRollout => ({
  scope: String(r.scope),
  host: String(r.host),
  app: String(r.app),
  service: String(r.service),
  specHash: String(r.spec_hash),
  at: num(r.at),
  error: String(r.error)
})
