/**
 * What happens to an accepted pass after the answer, per request: on a server (`background`) the
 * pass goes on in the server's scope; a serverless platform may freeze the process once the answer
 * is sent, so the web handler either waits for the pass before answering (`wait`), or hands the
 * pass to the platform's `waitUntil` and answers at once.
 */
import { Context, Effect } from "effect"
import type { PassQueueShape, PassStatus } from "./pass-queue.ts"

export type Completion =
  | { readonly _tag: "background" }
  | { readonly _tag: "wait" }
  | { readonly _tag: "waitUntil"; readonly waitUntil: (promise: Promise<unknown>) => void }

export const Completion = Context.Reference<Completion>("moor/http/Completion", {
  defaultValue: () => ({ _tag: "background" })
})

/** After a pass was accepted: waits for it when the request asks so; returns its status then. */
export const completeAccepted = (queue: PassQueueShape, passId: string): Effect.Effect<PassStatus | undefined> =>
  Effect.gen(function* () {
    const mode = yield* Completion
    switch (mode._tag) {
      case "background":
        return undefined
      case "wait":
        return yield* queue.awaitPass(passId)
      case "waitUntil":
        mode.waitUntil(Effect.runPromise(queue.awaitPass(passId)))
        return undefined
    }
  })
