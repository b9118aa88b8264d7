/**
 * The GitHub Action's entry (bundled into dist/action.js, run by the runner as `node dist/action.js`):
 * inputs from `INPUT_*`, then one run (run.ts) on the runner's protocol (io.ts).
 */
import * as core from "@actions/core"
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Logger, Result } from "effect"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { readInputs } from "./inputs.ts"
import { actionIO, actionLogger } from "./io.ts"
import { runAction } from "./run.ts"

const inputs = readInputs((name) => core.getInput(name))
const program = Result.isFailure(inputs)
  ? Effect.sync(() => core.setFailed(inputs.failure))
  : runAction(inputs.success, actionIO, { workspace: process.env.GITHUB_WORKSPACE })

runMain(program.pipe(Effect.provide(Layer.mergeAll(SpecLoader.layer, Logger.layer([actionLogger])))))
