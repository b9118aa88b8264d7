/**
 * `RepoError`, the repository's only error. Foreign errors (effect/sql's `SqlError`, the
 * migrator's `MigrationError`) are translated here, once, into a readable one-line message.
 */
import { Schema } from "effect"
import type { Migrator, SqlError } from "effect/sql"

export const RepoErrorKind = Schema.Literals([
  /** The database cannot be reached or opened (connection refused, bad credentials, unwritable file). */
  "unavailable",
  /** Another writer holds the database lock for longer than the busy timeout. */
  "busy",
  /** A unique key is taken (a run id used twice). */
  "conflict",
  "not-found",
  /** A run status change that its current status forbids. */
  "illegal-transition",
  /** Renewing a lease that this holder no longer holds. */
  "lease-lost",
  /** Bad input: a URL, a limit, a TTL. */
  "invalid",
  /** The schema could not be brought up to date. */
  "migration",
  "failed"
])
export type RepoErrorKind = typeof RepoErrorKind.Type

export class RepoError extends Schema.TaggedError<RepoError>()("RepoError", {
  op: Schema.String,
  kind: RepoErrorKind,
  message: Schema.String
}) {}

const reasonKind = (tag: SqlError.SqlError["reason"]["_tag"]): RepoErrorKind => {
  switch (tag) {
    case "ConnectionError":
    case "AuthenticationError":
    case "AuthorizationError":
      return "unavailable"
    case "LockTimeoutError":
    case "DeadlockError":
    case "SerializationError":
      return "busy"
    case "UniqueViolation":
    case "ConstraintError":
      return "conflict"
    default:
      return "failed"
  }
}

const causeMessage = (cause: unknown): string | undefined => {
  if (typeof cause === "string") return cause
  if (typeof cause === "object" && cause !== null && "message" in cause && typeof cause.message === "string") {
    return cause.message
  }
  return undefined
}

/** The first line only: driver messages sometimes carry a query or a stack below. */
const firstLine = (text: string): string => text.split("\n", 1)[0]?.trim() ?? text

export const fromSqlError = (op: string, error: SqlError.SqlError): RepoError => {
  const reason = error.reason
  const detail = reason.message ?? causeMessage(reason.cause) ?? reason._tag
  const own = causeMessage(reason.cause)
  const text = own !== undefined && !detail.includes(own) ? `${detail}: ${own}` : detail
  return new RepoError({ op, kind: reasonKind(reason._tag), message: `${op}: ${firstLine(text)}` })
}

export const fromMigrationError = (op: string, error: Migrator.MigrationError): RepoError => {
  const inner = error.cause === undefined ? undefined : causeMessage(error.cause)
  const text = inner === undefined ? error.message : `${error.message}: ${firstLine(inner)}`
  return new RepoError({ op, kind: "migration", message: `${op}: ${text}` })
}
