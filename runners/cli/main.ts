#!/usr/bin/env node
/** moor's command line: plan, apply, config, status, down, logs, runs, serve, watch. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { serveCommand } from "../http/serve-command.ts"
import { watchCommand } from "../watch/watch-command.ts"
import { applyCommand } from "./apply-command.ts"
import { configCommand } from "./config-command.ts"
import { downCommand } from "./down-command.ts"
import { logsCommand } from "./logs-command.ts"
import { planCommand } from "./plan-command.ts"
import { runsCommand } from "./runs-command.ts"
import { statusCommand } from "./status-command.ts"

export const moor = Command.make("moor").pipe(
  Command.withDescription("keeps Docker hosts in the state declared in Compose files kept in git"),
  Command.withSubcommands([
    planCommand,
    applyCommand,
    configCommand,
    statusCommand,
    downCommand,
    logsCommand,
    runsCommand,
    serveCommand,
    watchCommand
  ])
)

const program = Command.run(moor, { version: "0.1.0" }).pipe(
  Effect.provide(Layer.mergeAll(NodeServices.layer, SpecLoader.layer))
)

NodeRuntime.runMain(program)
