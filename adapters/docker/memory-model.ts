/**
 * What the in-memory engine knows: images with behaviour (health, exit, stop), the fixture images
 * as they behave for real, and the shapes of containers, scripts and failure rules.
 */
import type { ContainerState, Health } from "../../core/model/observed.ts"
import type { ContainerConfig } from "../../core/model/plan.ts"
import type { DockerErrorKind } from "./Docker.ts"
import type { EngineCall } from "./translate-error.ts"

export interface ImageHealthcheck {
  readonly test: ReadonlyArray<string>
  readonly intervalMs?: number | undefined
  readonly timeoutMs?: number | undefined
  readonly startPeriodMs?: number | undefined
  readonly retries?: number | undefined
}

/** What an engine says of itself (`GET /version`): its release and the newest API version it speaks. */
export interface EngineVersion {
  readonly version: string
  readonly apiVersion: string
}
/** A current engine, unless a test says otherwise. */
export const CURRENT_ENGINE: EngineVersion = { version: "28.3.3", apiVersion: "1.51" }

/** How a container of this image exits by itself (`env`: the container's environment). */
export type ExitBehaviour =
  | { readonly afterMs: number; readonly code: number }
  | ((env: Readonly<Record<string, string>>) => { readonly afterMs: number; readonly code: number } | undefined)

/** An image and how containers made from it behave. */
export interface MemoryImage {
  /** `moor-fixture/app:1` (`redis` means `redis:latest`). */
  readonly ref: string
  /** Default: derived from the ref. */
  readonly id?: string | undefined
  /** On the host now (default true). */
  readonly present?: boolean | undefined
  /** A registry has it: `pull` succeeds (default false, like the offline fixture images). */
  readonly remote?: boolean | undefined
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** The image's HEALTHCHECK. */
  readonly healthcheck?: ImageHealthcheck | undefined
  /** The image's own probe passes from this long after start (default: from the first probe). */
  readonly healthyAfterMs?: number | undefined
  /** The image's own probe never passes. */
  readonly neverHealthy?: boolean | undefined
  /** How long one probe takes: its result lands this long after it starts (default 0). */
  readonly probeMs?: number | undefined
  readonly exit?: ExitBehaviour | undefined
  /** Exit code on the stop signal (default 0). */
  readonly stopExitCode?: number | undefined
  /** Ignores the stop signal: killed after the grace period, exit 137. */
  readonly ignoresStop?: boolean | undefined
  /** Lines printed at each start. */
  readonly logs?: ReadonlyArray<string> | undefined
  /** Lines printed when the process exits by itself. */
  readonly exitLogs?: ReadonlyArray<string> | undefined
  /** `touch FILE` in an exec makes the image's probe fail; `rm FILE` makes it pass again. */
  readonly unhealthyFile?: string | undefined
}

const appImage = (version: string): MemoryImage => ({
  ref: `moor-fixture/app:${version}`,
  labels: { "moor.fixture": "app", "moor.fixture.hash": "memory", "org.opencontainers.image.version": version },
  healthcheck: {
    test: ["CMD", "/bin/moor-healthcheck"],
    intervalMs: 1_000,
    timeoutMs: 3_000,
    startPeriodMs: 5_000,
    retries: 2
  },
  // First probe 1 s after start, answered in ~0.5 s: healthy ~1.5 s after start.
  probeMs: 500,
  stopExitCode: 0,
  logs: [`moor-fixture app version ${version} listening on :8080`],
  unhealthyFile: "/tmp/unhealthy"
})

/** moor-fixture/app:1, app:2 and crashy:1, behaving like the images scripts/test-env.sh builds. */
export const fixtureImages: ReadonlyArray<MemoryImage> = [
  appImage("1"),
  appImage("2"),
  {
    ref: "moor-fixture/crashy:1",
    labels: { "moor.fixture": "crashy", "moor.fixture.hash": "memory", "org.opencontainers.image.version": "1" },
    exit: (env) => ({
      afterMs: Number(env.CRASH_AFTER ?? "1") * 1000,
      code: Number(env.CRASH_EXIT_CODE ?? "3")
    }),
    stopExitCode: 0,
    logs: ["moor-fixture crashy: started, exiting with 3 in 1s"],
    exitLogs: ["moor-fixture crashy: crash!"]
  }
]

export interface ExecOutcome {
  readonly exitCode?: number | undefined
  readonly output?: string | undefined
  /** How long the command runs (on the Clock); longer than the caller's timeout fails with `timeout`. */
  readonly durationMs?: number | undefined
}

/** A scripted exec result: for a container (name) and/or a command, the first match wins. */
export interface ExecScript {
  readonly container?: string | ((name: string) => boolean) | undefined
  /** The whole command, or a substring of the command joined with spaces, or a predicate. */
  readonly cmd?: ReadonlyArray<string> | string | ((cmd: ReadonlyArray<string>) => boolean) | undefined
  readonly result:
    | ExecOutcome
    | ((cmd: ReadonlyArray<string>, env: Readonly<Record<string, string>>, container: string) => ExecOutcome)
  /** Used this many times, then dropped (default: for ever). */
  readonly times?: number | undefined
}

/** The next `times` calls of `op` (on `host`, or any host) fail with `kind`. */
export interface FailNext {
  readonly op: EngineCall
  readonly kind: DockerErrorKind
  readonly times?: number | undefined
  readonly host?: string | undefined
  readonly message?: string | undefined
}

/** Each call (of `ops`, default all) fails with `probability`, drawn from a seeded generator. */
export interface FailRandomly {
  readonly probability: number
  readonly seed: number
  readonly kinds?: ReadonlyArray<DockerErrorKind> | undefined
  readonly ops?: ReadonlyArray<EngineCall> | undefined
  readonly host?: string | undefined
}

/** A container in a snapshot of the engine state, for assertions. */
export interface SnapshotContainer {
  readonly id: string
  readonly name: string
  readonly image: string
  readonly labels: Readonly<Record<string, string>>
  readonly state: ContainerState
  readonly health: Health
  readonly exitCode: number
  readonly restartCount: number
  readonly networks: ReadonlyArray<{ readonly name: string; readonly aliases: ReadonlyArray<string> }>
  readonly publishedPorts: ReadonlyArray<number>
  readonly config: ContainerConfig
}

export interface EngineSnapshot {
  readonly host: string
  readonly reachable: boolean
  readonly containers: ReadonlyArray<SnapshotContainer>
  readonly volumes: ReadonlyArray<{
    readonly name: string
    readonly labels: Readonly<Record<string, string>>
    readonly files: Readonly<Record<string, string>>
  }>
  readonly networks: ReadonlyArray<{
    readonly name: string
    readonly id: string
    readonly labels: Readonly<Record<string, string>>
  }>
  readonly images: ReadonlyArray<{ readonly ref: string; readonly id: string }>
}

/** Docker's defaults for a health check's timings. */
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 } as const

export interface ResolvedHealthcheck {
  readonly test: ReadonlyArray<string>
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly startPeriodMs: number
  readonly retries: number
}

/** The check a container runs: the config's overrides on top of the image's, `["NONE"]` for none. */
export const resolveHealthcheck = (image: MemoryImage, config: ContainerConfig): ResolvedHealthcheck | undefined => {
  const hc = config.healthcheck
  if (hc !== undefined && hc.test[0] === "NONE") return undefined
  const base = image.healthcheck
  const test = hc !== undefined && hc.test.length > 0 ? hc.test : base?.test
  if (test === undefined || test.length === 0) return undefined
  const pick = (key: "intervalMs" | "timeoutMs" | "startPeriodMs" | "retries") =>
    hc?.[key] ?? base?.[key] ?? HEALTH_DEFAULTS[key]
  return {
    test,
    intervalMs: pick("intervalMs"),
    timeoutMs: pick("timeoutMs"),
    startPeriodMs: pick("startPeriodMs"),
    retries: pick("retries")
  }
}

/** What a test command says about itself: `false` / `exit 1` never pass, `true` / `exit 0` always do. */
export const staticProbe = (test: ReadonlyArray<string>): "pass" | "fail" | undefined => {
  const body = (test[0] === "CMD" || test[0] === "CMD-SHELL" ? test.slice(1) : test).join(" ").trim()
  if (/^(\/bin\/)?false$|^exit [1-9]\d*$/.test(body)) return "fail"
  if (/^(\/bin\/)?true$|^exit 0$/.test(body)) return "pass"
  return undefined
}
