/**
 * SIGTERM and SIGINT for `moor watch`: the first one asks the loop to stop after the pass in
 * flight (no pull or create is cut in half) and the process then exits 0; a second one exits at
 * once with 130. While the scope is open these handlers replace the process's others (the
 * runtime's own would interrupt at once and exit 130); closing the scope puts those back.
 */
import { Deferred, Effect, type Scope } from "effect"

const SIGNALS = ["SIGTERM", "SIGINT"] as const
type Signal = (typeof SIGNALS)[number]
type Listener = (...args: Array<unknown>) => void

/** Completes with the signal's name at the first SIGTERM or SIGINT. */
export const stopOnSignal: Effect.Effect<Deferred.Deferred<Signal>, never, Scope.Scope> = Effect.gen(function* () {
  const stop = yield* Deferred.make<Signal>()
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      let received = 0
      const handler = (signal: Signal) => {
        received++
        if (received === 1) {
          Deferred.doneUnsafe(stop, Effect.succeed(signal))
          return
        }
        process.stderr.write(`${signal} again: exiting now, without waiting for the pass in flight\n`)
        process.exit(130)
      }
      const saved = SIGNALS.map((signal) => {
        const listeners = process.listeners(signal) as Array<Listener>
        process.removeAllListeners(signal)
        process.on(signal, handler)
        return { signal, listeners }
      })
      return { handler, saved }
    }),
    ({ handler, saved }) =>
      Effect.sync(() => {
        for (const { signal, listeners } of saved) {
          process.removeListener(signal, handler)
          for (const l of listeners) process.on(signal, l)
        }
      })
  )
  return stop
})
