/**
 * The Action's `ActionIO` on the runner's protocol (`@actions/core`): plain lines through `inert`
 * (nothing moor prints becomes a workflow command), annotations, outputs (the GITHUB_OUTPUT file),
 * the job summary, the step's status; and Effect's log lines as the runner's debug lines, warnings
 * and errors.
 */
import * as core from "@actions/core"
import { Effect, Logger } from "effect"
import type { ActionIO } from "./run.ts"
import { inert } from "./workflow-commands.ts"

/** One line (or several) of plain output. */
export const info = (text: string): void => core.info(inert(text.endsWith("\n") ? text.slice(0, -1) : text))

export const actionIO: ActionIO = {
  info,
  warning: (message, properties) => core.warning(message, properties),
  error: (message, properties) => core.error(message, properties),
  setOutput: (name, value) => core.setOutput(name, value),
  summary: (markdown) =>
    process.env.GITHUB_STEP_SUMMARY === undefined || process.env.GITHUB_STEP_SUMMARY === ""
      ? Effect.void
      : Effect.tryPromise(() => core.summary.addRaw(markdown).write()).pipe(
          Effect.catch((e) => Effect.sync(() => core.warning(`could not write the job summary: ${String(e.cause)}`)))
        ),
  setFailed: (message) => core.setFailed(message)
}

const text = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : String(m))).join(" ")

/** Effect's logs on the runner: debug lines (shown with ACTIONS_STEP_DEBUG), warnings, errors. */
export const actionLogger = Logger.make<unknown, void>(({ logLevel, message }) => {
  switch (logLevel) {
    case "Fatal":
    case "Error":
      return core.error(text(message))
    case "Warn":
      return core.warning(text(message))
    case "Info":
      return info(text(message))
    default:
      return core.debug(text(message))
  }
})
