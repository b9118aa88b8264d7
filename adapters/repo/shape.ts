/**
 * `RepoShape`: what the state repository offers. One implementation (make-repo.ts) serves SQLite,
 * in-memory SQLite and PostgreSQL.
 */
import type { Effect } from "effect"
import type { AppStateRow, AppStateTransition } from "../../core/app-states.ts"
import type { RepoError } from "./errors.ts"
import type { AcquireOptions } from "./leases.ts"
import type {
  AppStateRecord,
  FailedRollout,
  LeaseRecord,
  LeaseResult,
  ListRunsQuery,
  NewRun,
  PullRecord,
  RestartRecord,
  RunActionInput,
  RunDetail,
  RunRecord,
  RunUpdate
} from "./records.ts"

export interface AppStateSyncRequest {
  /** Apps desired on this host (from the spec). */
  readonly specApps: ReadonlyArray<string>
  /** The plan's app summaries for this host (rows naming another host are ignored), or "unreachable". */
  readonly observed: "unreachable" | ReadonlyArray<AppStateRow>
}

export interface RepoShape {
  readonly backend: "sqlite" | "postgres"
  /** Succeeds when the database answers (readiness checks). */
  readonly ping: Effect.Effect<void, RepoError>

  // Runs
  /** Fails with `conflict` when the id exists. */
  readonly createRun: (run: NewRun) => Effect.Effect<RunRecord, RepoError>
  /** Fails with `illegal-transition` (e.g. from an end state), `not-found` for an unknown id. Error text is capped. */
  readonly setRunStatus: (id: string, update: RunUpdate) => Effect.Effect<RunRecord, RepoError>
  /** The run and its actions, or undefined. */
  readonly getRun: (id: string) => Effect.Effect<RunDetail | undefined, RepoError>
  /** Newest first (by start time). `limit` from 1 to 10000. */
  readonly listRuns: (query: ListRunsQuery) => Effect.Effect<ReadonlyArray<RunRecord>, RepoError>
  /** In one transaction; an action id recorded again replaces its row. Fails with `not-found` for an unknown run. */
  readonly recordActions: (runId: string, actions: ReadonlyArray<RunActionInput>) => Effect.Effect<void, RepoError>

  // App states
  /** The app states remembered for one host, sorted by app. */
  readonly appStates: (scope: string, host: string) => Effect.Effect<ReadonlyArray<AppStateRecord>, RepoError>
  /**
   * Reads the host's rows, applies `core/app-states.ts`'s three-way sync in one transaction (rows
   * changed get `changedAt = now`) and returns the state transitions. Touches only (scope, host).
   */
  readonly syncAppStates: (
    scope: string,
    host: string,
    request: AppStateSyncRequest,
    now: number
  ) => Effect.Effect<ReadonlyArray<AppStateTransition>, RepoError>

  // Restarts
  /** Also prunes restarts older than the retention (default 24 h before this one). */
  readonly recordRestart: (restart: RestartRecord) => Effect.Effect<void, RepoError>
  /** Restarts at or after `since`, newest first. */
  readonly recentRestarts: (
    scope: string,
    host: string,
    since: number
  ) => Effect.Effect<ReadonlyArray<RestartRecord>, RepoError>

  // Failed rollouts
  /** Remembers that replacing a service with `specHash` failed (the last one per service). */
  readonly recordFailedRollout: (rollout: FailedRollout) => Effect.Effect<void, RepoError>
  /** The failed rollouts remembered on a host. */
  readonly failedRollouts: (scope: string, host: string) => Effect.Effect<ReadonlyArray<FailedRollout>, RepoError>
  /** Forgets a service's failed rollout (it was deployed, or someone asked to try again). */
  readonly clearFailedRollout: (
    scope: string,
    host: string,
    app: string,
    service: string
  ) => Effect.Effect<void, RepoError>

  // Pulls
  /** Remembers that moor pulled `image` on a host at `at` (the last pull per image). */
  readonly recordPull: (pull: PullRecord) => Effect.Effect<void, RepoError>
  /** The images moor pulled on a host, with when last. */
  readonly pulls: (scope: string, host: string) => Effect.Effect<ReadonlyArray<PullRecord>, RepoError>

  // Leases (time from the Clock)
  /**
   * Takes the lease on (scope, host) when it is free, expired or already this holder's (then it is
   * extended); otherwise reports who holds it. Atomic across processes. Taking over an expired lease
   * of another holder marks that holder's pending/running runs on (scope, host) `abandoned`, in the
   * same transaction.
   */
  readonly acquireLease: (
    scope: string,
    host: string,
    holder: string,
    ttlMs: number,
    options?: AcquireOptions
  ) => Effect.Effect<LeaseResult, RepoError>
  /** Extends the lease to now + ttlMs; returns the new expiry. Fails with `lease-lost` when another holder has it or it is gone. */
  readonly renewLease: (scope: string, host: string, holder: string, ttlMs: number) => Effect.Effect<number, RepoError>
  /** Only by its holder; returns whether a lease was released. */
  readonly releaseLease: (scope: string, host: string, holder: string) => Effect.Effect<boolean, RepoError>
  /** The lease row as stored (possibly expired), for status displays. */
  readonly lease: (scope: string, host: string) => Effect.Effect<LeaseRecord | undefined, RepoError>
}
