/**
 * What moor tells the world, as Schemas: runners build these payloads, the bus checks them
 * against the union before sending, subscribers decode them. The field tables of docs/events.md
 * are generated from the descriptions here (`node adapters/bus/events-doc.ts --write`), and a unit
 * test fails when they differ.
 */
import { Clock, Effect, Schema } from "effect"
import { AppState } from "../../core/model/plan.ts"

/** An instant in UTC, ISO 8601 with milliseconds: `2026-03-01T12:00:00.000Z`. */
export const Timestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, {
    message: "a timestamp must be ISO 8601 in UTC, e.g. 2026-03-01T12:00:00.000Z"
  })
).annotate({ title: "timestamp" })

/** Now, from the Effect `Clock` (so TestClock drives it in tests), as an event timestamp. */
export const eventTime: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

export const RunStatus = Schema.Literals(["pending", "running", "succeeded", "failed", "partial", "abandoned"])
export type RunStatus = typeof RunStatus.Type

/** The statuses a run ends in. */
export const RunOutcome = Schema.Literals(["succeeded", "failed", "partial", "abandoned"])
export type RunOutcome = typeof RunOutcome.Type

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ title: "integer ≥ 0" })
const described = <S extends Schema.Top>(schema: S, description: string): S["Rebuild"] =>
  schema.annotate({ description })

const scope = described(Schema.String, "The scope: which moor installation (a repository and its hosts) speaks.")
const at = described(Timestamp, "When it happened.")

/** An app went from one state to another on a host. */
export const AppStateEvent = Schema.Struct({
  type: Schema.Literal("app.state"),
  scope,
  host: described(Schema.String, "The host the app runs on."),
  app: described(Schema.String, "The app (one Compose project)."),
  previous: described(
    Schema.NullOr(AppState),
    "The state before; null when the app was not known (first observed, or newly declared)."
  ),
  current: described(Schema.NullOr(AppState), "The state now; null when the app is gone (torn down, not declared)."),
  specHash: described(Schema.String, "Hash of the app's desired spec; empty when the app is not desired."),
  runId: described(Schema.String, "The run that observed or caused the change."),
  at
})
export type AppStateEvent = typeof AppStateEvent.Type

export const RunSummary = Schema.Struct({
  actions: described(Count, "Actions in the plan."),
  done: described(Count, "Actions carried out."),
  failed: described(Count, "Actions that failed."),
  skipped: described(Count, "Actions not carried out (a failure before them, or a policy).")
})
export type RunSummary = typeof RunSummary.Type

/** A run changed status. */
export const RunLifecycleEvent = Schema.Struct({
  type: Schema.Literal("run.lifecycle"),
  scope,
  runId: described(Schema.String, "The run."),
  host: described(Schema.String, "The host the run acts on."),
  trigger: described(Schema.String, "What started the run, e.g. `apply`, `watch`, `webhook`."),
  previous: described(Schema.NullOr(RunStatus), "The status before; null when the run is new."),
  status: described(RunStatus, "The status now."),
  at,
  summary: Schema.optionalKey(described(RunSummary, "Counts of the plan's actions, once there is a plan.")),
  error: Schema.optionalKey(described(Schema.String, "Why the run failed or was abandoned, for people."))
})
export type RunLifecycleEvent = typeof RunLifecycleEvent.Type

export const LastPass = Schema.Struct({
  runId: described(Schema.String, "The run of that pass."),
  outcome: described(RunOutcome, "How it ended."),
  finishedAt: described(Timestamp, "When it ended.")
})
export type LastPass = typeof LastPass.Type

/** The watch loop is alive. */
export const HeartbeatEvent = Schema.Struct({
  type: Schema.Literal("heartbeat"),
  scope,
  at,
  lastPass: described(Schema.NullOr(LastPass), "The last pass of the watch loop that finished; null until one has.")
})
export type HeartbeatEvent = typeof HeartbeatEvent.Type

export const MoorEvent = Schema.Union([AppStateEvent, RunLifecycleEvent, HeartbeatEvent])
export type MoorEvent = typeof MoorEvent.Type
export type MoorEventType = MoorEvent["type"]

/** Every event type, read from the union: what docs/events.md must document. */
export const eventTypes: ReadonlyArray<MoorEventType> = MoorEvent.members.map((member) => member.fields.type.literal)

/** A payload as received (JSON text), checked against the union. */
export const MoorEventFromJson = Schema.fromJsonString(MoorEvent)
