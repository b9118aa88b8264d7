/** How the planner decides where the spec leaves room: prune, volumes, pulls, health and restart limits. */
import { Schema } from "effect"

export const Policy = Schema.Struct({
  /** Remove managed containers (and networks) whose app or service is no longer desired. */
  prune: Schema.Boolean,
  /** Remove named volumes of apps no longer desired. Off unless explicitly asked for. */
  removeVolumes: Schema.Boolean,
  /** Pull images only when missing, or before every create. */
  pull: Schema.Literals(["missing", "always"]),
  /** How long a running container may stay unhealthy before it is recreated. */
  unhealthyGraceMs: Schema.Number,
  /** How long a replacement or a dependency waits for a container to become healthy. */
  healthTimeoutMs: Schema.Number,
  /** Default timeout of an `on_start` hook. */
  hookTimeoutMs: Schema.Number,
  /** Restarts moor makes per service within `restartWindowMs` before the app is reported failed. */
  restartBudget: Schema.Int,
  restartWindowMs: Schema.Number,
  /** Back-off between restarts: base * 2^(n-1), capped. */
  restartBackoffMs: Schema.Number,
  restartBackoffMaxMs: Schema.Number,
  /** The engine's own restart count past which a `restarting` container is wedged. */
  restartingLimit: Schema.Int,
  /** How long a container may sit in `created` before it is wedged. */
  createdGraceMs: Schema.Number,
  /**
   * Try again a replacement that failed (and was rolled back) although its spec did not change.
   * Off: a failed update is left alone until the spec changes, so a bad deploy never turns into
   * a loop of replacements (with stop-first, each would take the service down).
   */
  retryFailed: Schema.Boolean
})
export type Policy = typeof Policy.Type

export const defaultPolicy: Policy = {
  prune: true,
  removeVolumes: false,
  pull: "missing",
  unhealthyGraceMs: 30_000,
  healthTimeoutMs: 60_000,
  hookTimeoutMs: 30_000,
  restartBudget: 5,
  restartWindowMs: 5 * 60_000,
  restartBackoffMs: 1_000,
  restartBackoffMaxMs: 60_000,
  restartingLimit: 3,
  createdGraceMs: 60_000,
  retryFailed: false
}

export const makePolicy = (overrides: Partial<Policy> = {}): Policy => ({ ...defaultPolicy, ...overrides })
