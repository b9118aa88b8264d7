/**
 * `moor watch [SPEC] --interval 30s`: keeps the hosts as the spec says, for as long as it runs. A
 * pass at once, then one every interval, and one within a moment of a managed container dying,
 * being removed or changing health. SIGTERM or SIGINT: the pass in flight finishes, then exit 0.
 * Exit 1 when the spec cannot be loaded at start, or the state repository or bus cannot be set up.
 */
import { Deferred, Effect, Fiber, Layer, Result } from "effect"
import { Command, Flag } from "effect/cli"
import { Bus } from "../../adapters/bus/Bus.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { formatDuration } from "../../core/plan/format.ts"
import { globalFlags, policyFlags, specArg } from "../cli/commands.ts"
import { policyFrom } from "../cli/context.ts"
import { CliFailure, reportFailures } from "../cli/errors.ts"
import { newHolderId } from "../pass/ids.ts"
import { parseDuration } from "./duration.ts"
import { logLayer } from "./log.ts"
import { DEFAULT_DEBOUNCE_MS } from "./loop.ts"
import { stopOnSignal } from "./signals.ts"
import { makeSpecCache } from "./spec-cache.ts"
import { runWatch } from "./watch.ts"

/** Milliseconds, or what is wrong with the text. */
const durationOf = (text: string, minimumMs: number): Result.Result<number, string> => {
  const ms = parseDuration(text)
  if (Result.isFailure(ms) || ms.success >= minimumMs) return ms
  return Result.fail(`${text} is too short: give at least ${formatDuration(minimumMs)}`)
}

const durationFlag = (name: string, fallback: string, description: string, minimumMs: number) =>
  Flag.String(name).pipe(
    Flag.withDescription(description),
    Flag.withDefault(fallback),
    Flag.filterMap(
      (text) => Result.getSuccess(durationOf(text, minimumMs)),
      (text) => {
        const r = durationOf(text, minimumMs)
        return Result.isFailure(r) ? r.failure : text
      }
    )
  )

export const watchCommand = Command.make(
  "watch",
  {
    spec: specArg,
    ...globalFlags,
    ...policyFlags,
    interval: durationFlag("interval", "30s", "a pass at least this often, e.g. 30s, 5m", 1000),
    debounce: durationFlag(
      "debounce",
      `${DEFAULT_DEBOUNCE_MS}ms`,
      "after a container dies or changes health, wait this long for more events before the pass",
      0
    ),
    rounds: Flag.Int("rounds").pipe(
      Flag.withDescription("at most this many observe-plan-apply rounds per pass"),
      Flag.withDefault(5)
    )
  },
  (flags) =>
    reportFailures(
      Effect.scoped(
        Effect.gen(function* () {
          const spec = makeSpecCache(flags.spec, flags)
          const first = yield* spec.current.pipe(
            Effect.mapError(
              (e) =>
                new CliFailure({
                  message: `the spec at ${flags.spec} cannot be loaded:\n${e.message}`,
                  exitCode: 1
                })
            )
          )
          const stop = yield* stopOnSignal
          const watching = runWatch({
            spec,
            policy: policyFrom(flags),
            intervalMs: flags.interval,
            debounceMs: flags.debounce,
            maxRounds: flags.rounds,
            holder: yield* newHolderId
          }).pipe(Effect.provide(Layer.mergeAll(Repo.layerFromUrl(first.loaded.repoUrl), Bus.layerFromEnv)))
          const fiber = yield* Effect.forkChild(watching)
          // Until the loop fails (a layer could not be built) or a signal asks it to stop.
          yield* Effect.raceFirst(Effect.asVoid(Fiber.await(fiber)), Effect.asVoid(Deferred.await(stop)))
          if (yield* Deferred.isDone(stop)) {
            yield* Effect.logInfo(`${yield* Deferred.await(stop)}: stopping after the pass in flight`)
            yield* Fiber.interrupt(fiber)
            yield* Effect.logInfo("stopped")
            return
          }
          return yield* Fiber.join(fiber)
        })
      ).pipe(Effect.provide(logLayer(flags)))
    )
).pipe(
  Command.withDescription(
    "keep the hosts as the spec says: a pass at once, then every interval and whenever a managed container dies, is removed or changes health"
  )
)
