/**
 * One engine call as the executor makes it: bounded by the pass's concurrency, retried with
 * exponential backoff while the error is transient (connection reset, 5xx, 409 mid-removal), and
 * cut off by a timeout.
 */
import { Data, Duration, Effect, Schedule, type Semaphore } from "effect"
import { type DockerError, isRetryable } from "../../adapters/docker/Docker.ts"

export class ActionFailed extends Data.TaggedError("ActionFailed")<{ readonly message: string }> {}

export interface CallOptions {
  readonly semaphore: Semaphore.Semaphore
  /** Retries after the first attempt. */
  readonly retries: number
  readonly retryBaseMs: number
}

export const describeDockerError = (e: DockerError): string => e.message

export const engineCall = <A>(
  options: CallOptions,
  what: string,
  timeoutMs: number,
  call: Effect.Effect<A, DockerError>
): Effect.Effect<A, ActionFailed> =>
  call.pipe(
    options.semaphore.withPermits(1),
    Effect.retry({
      schedule: Schedule.exponential(Duration.millis(options.retryBaseMs)).pipe(Schedule.jittered),
      times: options.retries,
      while: isRetryable
    }),
    Effect.mapError((e) => new ActionFailed({ message: `${what}: ${describeDockerError(e)}` })),
    Effect.timeoutOrElse({
      duration: Duration.millis(timeoutMs),
      orElse: () =>
        Effect.fail(new ActionFailed({ message: `${what}: no answer within ${Math.round(timeoutMs / 1000)}s` }))
    })
  )
