/**
 * The GitHub Action's entry (bundled into dist/action.js, run by the runner as `node dist/action.js`):
 * inputs from `INPUT_*`, outputs, annotations, job summary and the step's status through
 * `@actions/core`; Effect's log lines become the runner's debug lines, warnings and errors.
 */
import * as core from "@actions/core"
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Logger, Result } from "effect"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { readInputs } from "./inputs.ts"
import { type ActionIO, runAction } from "./run.ts"

const io: ActionIO = {
  info: (text) => core.info(text.endsWith("\n") ? text.slice(0, -1) : text),
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
const actionLogger = Logger.make<unknown, void>(({ logLevel, message }) => {
  switch (logLevel) {
    case "Fatal":
    case "Error":
      return core.error(text(message))
    case "Warn":
      return core.warning(text(message))
    case "Info":
      return core.info(text(message))
    default:
      return core.debug(text(message))
  }
})

const inputs = readInputs((name) => core.getInput(name))
const program = Result.isFailure(inputs)
  ? Effect.sync(() => core.setFailed(inputs.failure))
  : runAction(inputs.success, io, { workspace: process.env.GITHUB_WORKSPACE })

runMain(program.pipe(Effect.provide(Layer.mergeAll(SpecLoader.layer, Logger.layer([actionLogger])))))
