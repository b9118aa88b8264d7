/** The bus's own error. `publish` never surfaces it (a failed delivery is logged and dropped). */
import { Schema } from "effect"

export const BusErrorReason = Schema.Literals([
  /** MOOR_BUS (or a pattern, or an option) is not valid: a person has to fix it. */
  "config",
  /** The server is down, not connected yet, or refused the connection. */
  "unavailable",
  /** No answer within the publish timeout. */
  "timeout",
  /** The receiver answered with a refusal (a 4xx): retrying will not help. */
  "rejected",
  /** The bus cannot do this (a webhook cannot be subscribed to). */
  "unsupported",
  /** The event does not match the `MoorEvent` Schema. */
  "invalid-event"
])
export type BusErrorReason = typeof BusErrorReason.Type

export class BusError extends Schema.TaggedError<BusError>()("BusError", {
  /** Which bus, as logged: `memory`, `nats nats://127.0.0.1:4222`, `webhook https://example.com/hook`. */
  backend: Schema.String,
  op: Schema.String,
  reason: BusErrorReason,
  message: Schema.String
}) {}
