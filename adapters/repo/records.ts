/**
 * What the state repository stores: runs and their actions, app states, restarts and leases.
 * Times are epoch milliseconds given by the caller (the repo reads the clock only for leases and
 * for a run's finish time when none is given).
 */
import { Schema } from "effect"
import type { AppState } from "../../core/model/plan.ts"

export const RunTrigger = Schema.Literals(["cli", "watch", "webhook", "action"])
export type RunTrigger = typeof RunTrigger.Type

/**
 * `pending -> running -> succeeded | failed | partial`. `pending` may also end directly (failed
 * before it started, e.g. the engine did not answer). `abandoned`: the process running it died
 * (its lease was taken over after expiry). The four end states are final.
 */
export const RunStatus = Schema.Literals(["pending", "running", "succeeded", "failed", "partial", "abandoned"])
export type RunStatus = typeof RunStatus.Type

export const runTransitions: Readonly<Record<RunStatus, ReadonlyArray<RunStatus>>> = {
  pending: ["running", "succeeded", "failed", "abandoned"],
  running: ["succeeded", "failed", "partial", "abandoned"],
  succeeded: [],
  failed: [],
  partial: [],
  abandoned: []
}
export const isFinal = (status: RunStatus): boolean => runTransitions[status].length === 0

export const ActionOutcome = Schema.Literals(["done", "failed", "skipped"])
export type ActionOutcome = typeof ActionOutcome.Type

/** Longest error text kept, in characters; longer text is cut and marked. */
export const errorTextCap = 2000
const cutMark = " …[truncated]"
export const capText = (text: string): string =>
  text.length <= errorTextCap ? text : text.slice(0, errorTextCap - cutMark.length) + cutMark

export interface NewRun {
  /** Given by the caller (unique). */
  readonly id: string
  readonly trigger: RunTrigger
  readonly scope: string
  readonly host: string
  /** The lease holder running it: when its lease is taken over after expiry, the run becomes `abandoned`. */
  readonly holder?: string | undefined
  /** Default `pending`. */
  readonly status?: "pending" | "running" | undefined
  readonly startedAt: number
  /** JSON text, e.g. counts of actions by kind. */
  readonly planSummary?: string | undefined
}

export interface RunRecord {
  readonly id: string
  readonly trigger: RunTrigger
  readonly scope: string
  readonly host: string
  readonly holder: string | undefined
  readonly status: RunStatus
  readonly startedAt: number
  readonly finishedAt: number | undefined
  readonly planSummary: string | undefined
  /** At most `errorTextCap` characters. */
  readonly error: string | undefined
}

export interface RunUpdate {
  readonly status: RunStatus
  /** Finish time for an end state; the clock's time when omitted. Ignored for `running`. */
  readonly at?: number | undefined
  /** Kept capped at `errorTextCap` characters. */
  readonly error?: string | undefined
  readonly planSummary?: string | undefined
}

export interface RunActionInput {
  readonly actionId: string
  readonly kind: string
  readonly host: string
  readonly app: string
  readonly service?: string | undefined
  readonly reason: string
  readonly outcome: ActionOutcome
  readonly error?: string | undefined
  readonly startedAt: number
  readonly finishedAt: number
}

export interface RunActionRecord {
  readonly runId: string
  readonly actionId: string
  readonly kind: string
  readonly host: string
  readonly app: string
  readonly service: string | undefined
  readonly reason: string
  readonly outcome: ActionOutcome
  readonly error: string | undefined
  readonly startedAt: number
  readonly finishedAt: number
  readonly durationMs: number
}

export interface RunDetail {
  readonly run: RunRecord
  /** In the order they were recorded. */
  readonly actions: ReadonlyArray<RunActionRecord>
}

export interface ListRunsQuery {
  readonly scope?: string | undefined
  readonly host?: string | undefined
  readonly limit: number
}

export interface AppStateRecord {
  readonly scope: string
  readonly host: string
  readonly app: string
  readonly state: AppState
  readonly specHash: string
  /** When the state (or spec hash) last changed. */
  readonly changedAt: number
}

export interface RestartRecord {
  readonly scope: string
  readonly host: string
  readonly app: string
  readonly service: string
  readonly at: number
  readonly specHash: string
}

/** An image moor pulled on a host, and when (the last pull per image). */
export interface PullRecord {
  readonly scope: string
  readonly host: string
  readonly image: string
  readonly at: number
}

export interface LeaseRecord {
  readonly scope: string
  readonly host: string
  readonly holder: string
  readonly acquiredAt: number
  readonly expiresAt: number
}

export type LeaseResult =
  | {
      readonly _tag: "Acquired"
      readonly expiresAt: number
      /** Set when an expired lease of another holder was taken over. */
      readonly previousHolder: string | undefined
      /** Runs of the previous holder on this scope and host that were marked `abandoned` in the same transaction. */
      readonly abandonedRuns: ReadonlyArray<string>
    }
  | { readonly _tag: "Held"; readonly heldBy: string; readonly expiresAt: number }

/** A replacement of a service that failed (and was rolled back): the last one per service. */
export interface FailedRollout {
  readonly scope: string
  readonly host: string
  readonly app: string
  readonly service: string
  /** The spec that could not be deployed. */
  readonly specHash: string
  readonly at: number
  /** Why, capped at `errorTextCap`. */
  readonly error: string
}
