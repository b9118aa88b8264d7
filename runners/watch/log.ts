/**
 * The watch loop's log: one line per event on stderr (journald and `docker logs` keep them), as
 * text (`2026-03-01T12:00:00.000Z WARN  message`, continuation lines indented) or as JSON objects
 * (`{"at":...,"level":...,"message":...}`). `--quiet` keeps warnings and errors; MOOR_DEBUG=1
 * adds the quiet passes.
 */
import { Cause, Layer, Logger, type LogLevel, References } from "effect"

const text = (message: unknown): string =>
  Array.isArray(message) ? message.map(text).join(" ") : typeof message === "string" ? message : String(message)

const withCause = (message: string, cause: Cause.Cause<unknown>): string =>
  cause.reasons.length === 0 ? message : `${message}\n${Cause.pretty(cause)}`

const textLogger = Logger.make<unknown, void>(({ message, logLevel, cause, date }) => {
  const body = withCause(text(message), cause).replace(/\n/g, "\n    ")
  process.stderr.write(`${date.toISOString()} ${logLevel.toUpperCase().padEnd(5)} ${body}\n`)
})

const jsonLogger = Logger.make<unknown, void>(({ message, logLevel, cause, date }) => {
  process.stderr.write(
    `${JSON.stringify({ at: date.toISOString(), level: logLevel.toLowerCase(), message: withCause(text(message), cause) })}\n`
  )
})

export const logLayer = (options: { readonly json: boolean; readonly quiet: boolean }): Layer.Layer<never> => {
  const level: LogLevel.LogLevel = options.quiet ? "Warn" : process.env.MOOR_DEBUG === "1" ? "Debug" : "Info"
  return Layer.mergeAll(
    Logger.layer([options.json ? jsonLogger : textLogger]),
    Layer.succeed(References.MinimumLogLevel, level)
  )
}
