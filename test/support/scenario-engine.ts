/**
 * What a scenario needs from an engine, implemented twice: on the in-memory engine
 * (scenario-memory.ts) and on the real one (scenario-live.ts). Everything a scenario asserts goes
 * through `snapshot`, `volumes`, `readFile` and `http`, so the same expectations check both.
 */
import type { Effect, Layer } from "effect"
import type { Docker } from "../../adapters/docker/Docker.ts"
import type { ContainerState, Health } from "../../core/model/observed.ts"
import type { HookDouble } from "./scenario-format.ts"

export const HOST = "local"

/** One container as a scenario sees it (the scope's, or a foreign one it made). */
export interface ContainerView {
  readonly id: string
  readonly name: string
  /** The image reference it was created from. */
  readonly image: string
  readonly state: ContainerState
  readonly health: Health
  readonly exitCode: number | undefined
  /** Epoch ms on the engine's clock (the TestClock for the in-memory engine). */
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
}

export interface HttpAnswer {
  readonly status: number
  readonly body: string
}

/** A host port on 127.0.0.1, or a port of a container on its own address (no host port needed). */
export interface HttpTarget {
  readonly port: number
  readonly container?: string | undefined
}

export interface ForeignContainer {
  readonly name: string
  readonly image: string
  readonly labels: Readonly<Record<string, string>>
}

export interface ScenarioEngine {
  readonly kind: "memory" | "live"
  /** The `Docker` service a pass gets now (an unreachable engine gives one that cannot reach it). */
  readonly docker: () => Layer.Layer<Docker>
  /** The scope's containers and the named foreign ones that exist. */
  readonly snapshot: (scope: string, foreign: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<ContainerView>>
  /** Names of the volumes carrying the scope's label. */
  readonly volumes: (scope: string) => Effect.Effect<ReadonlyArray<string>>
  readonly kill: (name: string) => Effect.Effect<void>
  readonly pause: (name: string) => Effect.Effect<void>
  readonly stop: (name: string) => Effect.Effect<void>
  readonly remove: (name: string) => Effect.Effect<void>
  /** `touch /tmp/unhealthy` in the fixture app: its health check fails from then on. */
  readonly unhealthy: (name: string) => Effect.Effect<void>
  readonly foreign: (container: ForeignContainer) => Effect.Effect<void>
  readonly writeFile: (volume: string, path: string, content: string) => Effect.Effect<void>
  /** The file's content, or undefined when it does not exist. */
  readonly readFile: (volume: string, path: string) => Effect.Effect<string | undefined>
  /** GET on 127.0.0.1:port, or on the container's own address; undefined when nothing answers. */
  readonly http: (target: HttpTarget, path: string) => Effect.Effect<HttpAnswer | undefined>
  readonly setReachable: (reachable: boolean) => Effect.Effect<void>
  /** Hook scripts (by content) and how the in-memory engine plays them; the real engine runs them. */
  readonly playHooks: (
    doubles: ReadonlyArray<{ readonly content: string; readonly double: HookDouble }>
  ) => Effect.Effect<void>
  /** Lets time pass: the TestClock moves, or the process sleeps. */
  readonly sleep: (ms: number) => Effect.Effect<void>
  /** Runs an effect that sleeps (a pass): under the TestClock, time is moved until it is done. */
  readonly timed: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}
