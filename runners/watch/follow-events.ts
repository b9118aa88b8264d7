/**
 * Between ticks, the watch loop follows each host's engine events for its scope's containers: a
 * container that dies, runs out of memory, is removed, is paused or changes health asks for a pass
 * at once. The event stream can end or fail (the engine restarted, the host went away): it is
 * followed again with exponential backoff, and a stream that had been up asks for a pass, since
 * events may have been missed meanwhile.
 */
import { Effect, Stream } from "effect"
import type { DockerShape, EngineEvent } from "../../adapters/docker/Docker.ts"

/** Engine events after which the host may no longer be as the spec says. */
export const isDriftEvent = (e: EngineEvent): boolean =>
  e.action === "die" ||
  e.action === "oom" ||
  e.action === "destroy" ||
  e.action === "pause" ||
  e.action.startsWith("health_status")

export interface FollowOptions {
  /** First wait before following again (default 250 ms); doubles up to `maxMs`. */
  readonly baseMs?: number | undefined
  /** Longest wait between attempts (default 10 s). */
  readonly maxMs?: number | undefined
}

/** A stream that lived this long (or delivered an event) was up: its end resets the backoff. */
const ESTABLISHED_MS = 2000

const now = Effect.clockWith((c) => c.currentTimeMillis)

/**
 * Follows one host's events for ever; `onDrift` is called with a reason for each event that matters
 * (and the event), and when a stream that was up breaks (without one).
 */
export const followHost = (
  docker: DockerShape,
  host: string,
  scope: string,
  onDrift: (reason: string, event?: EngineEvent) => Effect.Effect<void>,
  options: FollowOptions = {}
): Effect.Effect<never> =>
  Effect.gen(function* () {
    const baseMs = options.baseMs ?? 250
    const maxMs = options.maxMs ?? 10_000
    let failures = 0
    for (;;) {
      const openedAt = yield* now
      let delivered = false
      const message = yield* docker.events(host, scope).pipe(
        Stream.runForEach((e) => {
          delivered = true
          return isDriftEvent(e) ? onDrift(`${e.action} ${e.name} on ${host}`, e) : Effect.void
        }),
        Effect.as("the engine ended the stream"),
        Effect.catch((e) => Effect.succeed(e.message)),
        Effect.catchDefect((d) => Effect.succeed(`unexpected failure: ${String(d)}`))
      )
      if (delivered || (yield* now) - openedAt >= ESTABLISHED_MS) {
        failures = 0
        yield* Effect.logWarning(`events of host ${host}: ${message}; following them again`)
        yield* onDrift(`events of host ${host} were interrupted`)
      } else if (failures === 0) {
        yield* Effect.logWarning(`events of host ${host}: ${message}; retrying with backoff`)
      } else {
        yield* Effect.logDebug(`events of host ${host}: ${message} (attempt ${failures + 1})`)
      }
      failures++
      yield* Effect.sleep(Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30)))
    }
  })
