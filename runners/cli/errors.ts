/**
 * User-facing failures of a command: one clear message (what, where, what to do) and an exit
 * code, never a stack trace. Anything else is reported as an internal error; MOOR_DEBUG=1 adds
 * the details.
 */
import { Cause, Data, Effect } from "effect"
import { formatProblem } from "../../adapters/spec/SpecLoader.ts"
import { printErr, red } from "./output.ts"

export class CliFailure extends Data.TaggedError("CliFailure")<{
  readonly message: string
  readonly exitCode: number
}> {}

const describe = (e: unknown): { message: string; exitCode: number } => {
  if (typeof e === "object" && e !== null && "_tag" in e) {
    const tagged = e as {
      _tag: string
      message?: string
      problems?: ReadonlyArray<Parameters<typeof formatProblem>[0]>
    }
    switch (tagged._tag) {
      case "CliFailure":
        return { message: tagged.message ?? "failed", exitCode: (e as CliFailure).exitCode }
      case "SpecError":
        return {
          message:
            tagged.problems !== undefined && tagged.problems.length > 0
              ? tagged.problems.map(formatProblem).join("\n")
              : (tagged.message ?? "the spec could not be loaded"),
          exitCode: 1
        }
      case "DockerError":
      case "RepoError":
      case "BusError":
        return { message: tagged.message ?? tagged._tag, exitCode: 1 }
    }
  }
  return { message: `internal error: ${e instanceof Error ? e.message : String(e)}`, exitCode: 70 }
}

/** Runs a command's effect; on failure prints the message and sets the exit code. */
export const reportFailures = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<void, never, R> =>
  effect.pipe(
    Effect.asVoid,
    Effect.catchCause((cause) =>
      Effect.sync(() => {
        if (Cause.hasInterruptsOnly(cause)) return
        const failure = Cause.squash(cause)
        const { message, exitCode } = describe(failure)
        printErr(`${red("error:")} ${message}`)
        if (process.env.MOOR_DEBUG === "1") printErr(Cause.pretty(cause))
        process.exitCode = exitCode
      })
    )
  )
