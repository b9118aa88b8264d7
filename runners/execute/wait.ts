/**
 * Waiting on a container: until it is healthy (or, without a health check, running and settled),
 * or until it has run to completion. Polls the engine; fails at once on unhealthy or an exit.
 */
import { Duration, Effect } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import type { ObservedContainer } from "../../core/model/observed.ts"
import { ActionFailed, type CallOptions, engineCall } from "./engine-call.ts"

const POLL_MS = 250
/** A container without a health check counts as ready once it has stayed up this long. */
const SETTLE_MS = 1000

const inspect = (options: CallOptions, host: string, name: string) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    return yield* engineCall(options, `inspect ${name}`, 30_000, docker.inspectContainer(host, name))
  })

const exitText = (c: ObservedContainer) => `exited${c.exitCode === undefined ? "" : ` (${c.exitCode})`}`

/**
 * Until `name` is healthy; with `monitorMs`, it must then stay running and not unhealthy that long
 * (`update_config.monitor`), within the same timeout.
 */
export const waitHealthy = (options: CallOptions, host: string, name: string, timeoutMs: number, monitorMs = 0) =>
  Effect.gen(function* () {
    yield* untilHealthy(options, host, name)
    if (monitorMs <= 0) return
    const until = (yield* Effect.clockWith((clock) => clock.currentTimeMillis)) + monitorMs
    for (;;) {
      const c = yield* inspect(options, host, name)
      if (c === undefined) return yield* new ActionFailed({ message: `${name} is gone` })
      if (c.state !== "running")
        return yield* new ActionFailed({
          message: `${name} ${c.state === "exited" ? exitText(c) : c.state} while monitored`
        })
      if (c.health === "unhealthy")
        return yield* new ActionFailed({ message: `${name} turned unhealthy while monitored` })
      if ((yield* Effect.clockWith((clock) => clock.currentTimeMillis)) >= until) return
      yield* Effect.sleep(Duration.millis(POLL_MS))
    }
  }).pipe(
    Effect.timeoutOrElse({
      duration: Duration.millis(timeoutMs + monitorMs),
      orElse: () =>
        Effect.fail(
          new ActionFailed({ message: `${name} did not become healthy within ${Math.round(timeoutMs / 1000)}s` })
        )
    })
  )

const untilHealthy = (options: CallOptions, host: string, name: string) =>
  Effect.gen(function* () {
    let runningSince: { readonly startedAt: number | undefined; readonly seenAt: number } | undefined
    for (;;) {
      const c = yield* inspect(options, host, name)
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      if (c === undefined) return yield* new ActionFailed({ message: `${name} is gone` })
      if (c.state === "running" && c.health === "healthy") return
      if (c.state === "running" && c.health === "unhealthy")
        return yield* new ActionFailed({ message: `${name} is unhealthy` })
      if (c.state === "exited" || c.state === "dead")
        return yield* new ActionFailed({ message: `${name} ${exitText(c)} instead of becoming healthy` })
      if (c.state === "running" && c.health === "none") {
        if (runningSince === undefined || runningSince.startedAt !== c.startedAt)
          runningSince = { startedAt: c.startedAt, seenAt: now }
        else if (now - runningSince.seenAt >= SETTLE_MS) return
      } else runningSince = undefined
      yield* Effect.sleep(Duration.millis(POLL_MS))
    }
  })

export const waitCompleted = (options: CallOptions, host: string, name: string, timeoutMs: number) =>
  Effect.gen(function* () {
    for (;;) {
      const c = yield* inspect(options, host, name)
      if (c === undefined) return yield* new ActionFailed({ message: `${name} is gone` })
      if (c.state === "exited" && c.exitCode === 0) return
      if (c.state === "exited" || c.state === "dead")
        return yield* new ActionFailed({ message: `${name} ${exitText(c)}` })
      yield* Effect.sleep(Duration.millis(POLL_MS))
    }
  }).pipe(
    Effect.timeoutOrElse({
      duration: Duration.millis(timeoutMs),
      orElse: () =>
        Effect.fail(new ActionFailed({ message: `${name} did not complete within ${Math.round(timeoutMs / 1000)}s` }))
    })
  )
