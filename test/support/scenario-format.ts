/**
 * The format of `scenarios/<name>/scenario.yaml` (see scenarios/README.md): the steps of an
 * end-to-end scenario and what each pass must leave behind. Engine-independent on purpose: the
 * same file runs against the in-memory engine and the real one.
 */
import { Schema } from "effect"
import { ContainerState, Health } from "../../core/model/observed.ts"
import { AppState } from "../../core/model/plan.ts"

const Name = Schema.NonEmptyString
const Millis = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))

/** What a container must look like after a pass; absent fields are not checked. */
export const ExpectedContainer = Schema.Struct({
  state: ContainerState,
  image: Schema.optionalKey(Schema.String),
  health: Schema.optionalKey(Health),
  exitCode: Schema.optionalKey(Schema.Int)
})
export type ExpectedContainer = typeof ExpectedContainer.Type

export const HttpCheck = Schema.Struct({
  http: Schema.Struct({
    /** With `container`: the container's port, on its own address; alone: a host port on 127.0.0.1. */
    port: Port,
    container: Schema.optionalKey(Name),
    path: Schema.String,
    /** The body contains this text. */
    body: Schema.String
  })
})
export const FileCheck = Schema.Struct({
  file: Schema.Struct({
    volume: Name,
    /** Relative to the volume's root. */
    path: Name,
    content: Schema.String
  })
})
export const Check = Schema.Union([HttpCheck, FileCheck])
export type Check = typeof Check.Type

export const Expect = Schema.Struct({
  /** The run's status on the host. */
  run: Schema.optionalKey(Schema.Literals(["succeeded", "partial", "failed"])),
  /** Texts the run's error contains. */
  error: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Exactly the changing actions of the pass (every round), as `<id> <outcome>`, in any order. */
  actions: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Waits that are among the pass's results, as `<id> <outcome>`. */
  passive: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Exactly the skips of the final plan (what is left undone, and so not run), by id. */
  skips: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Exactly the scope's containers after the pass, by name. */
  containers: Schema.optionalKey(Schema.Record(Schema.String, ExpectedContainer)),
  /** Containers with the same id as before the pass. */
  kept: Schema.optionalKey(Schema.Array(Name)),
  /** Containers with another id than before the pass. */
  replaced: Schema.optionalKey(Schema.Array(Name)),
  /** Containers (the scope's or foreign) with the same id, state and start time as before the pass; `all`: every one. */
  untouched: Schema.optionalKey(Schema.Union([Schema.Literal("all"), Schema.Array(Name)])),
  /** `later: earlier`: the container `later` was started after `earlier` had finished. */
  startedAfter: Schema.optionalKey(Schema.Record(Schema.String, Name)),
  /** Exactly the apps of the final plan and their states; the repository must agree. */
  apps: Schema.optionalKey(Schema.Record(Schema.String, AppState)),
  /** The repository's app-state rows for the host are the same as before the pass. */
  repoUnchanged: Schema.optionalKey(Schema.Boolean),
  /** Volumes of the scope that exist after the pass (others may exist too). */
  volumes: Schema.optionalKey(Schema.Array(Name)),
  checks: Schema.optionalKey(Schema.Array(Check))
})
export type Expect = typeof Expect.Type

export const ForeignSpec = Schema.Struct({
  name: Name,
  image: Name,
  labels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String))
})

const PassStep = Schema.Struct({
  /** A pass with the spec in this sub-directory of the scenario. */
  pass: Name,
  note: Schema.optionalKey(Schema.String),
  expect: Schema.optionalKey(Expect)
})

/** Each step is a mapping with one of these keys, which says what it does. */
export const stepSchemas = {
  pass: PassStep,
  /** `docker kill`: the user stopped it, the restart policy leaves it down. */
  kill: Schema.Struct({ kill: Name }),
  pause: Schema.Struct({ pause: Name }),
  stop: Schema.Struct({ stop: Name }),
  remove: Schema.Struct({ remove: Name }),
  /** The fixture app's health check starts failing (`touch /tmp/unhealthy`). */
  unhealthy: Schema.Struct({ unhealthy: Name }),
  /** A container made outside moor (no scope label). */
  foreign: Schema.Struct({ foreign: ForeignSpec }),
  /** Data written into a volume (relative path). */
  write: Schema.Struct({ write: Schema.Struct({ volume: Name, path: Name, content: Schema.String }) }),
  /** Waits (polling) until the container is in this state. */
  wait: Schema.Struct({
    wait: Schema.Struct({
      container: Name,
      state: ContainerState,
      health: Schema.optionalKey(Health),
      timeoutMs: Schema.optionalKey(Millis)
    })
  }),
  /** The engine stops (or starts again) answering moor: a bad DOCKER_HOST, a host gone. */
  engine: Schema.Struct({ engine: Schema.Literals(["unreachable", "reachable"]) })
} as const
export type StepKind = keyof typeof stepSchemas
export type Step = (typeof stepSchemas)[StepKind]["Type"]

/** How the in-memory engine plays what it cannot do by itself (it runs no shell); the real run checks it. */
export const HookDouble = Schema.Struct({
  exitCode: Schema.Int,
  output: Schema.optionalKey(Schema.String),
  /** Files the script writes; `${MOOR_*}` in path and content come from the hook's environment. */
  writes: Schema.optionalKey(Schema.Array(Schema.Struct({ volume: Name, path: Name, content: Schema.String })))
})
export type HookDouble = typeof HookDouble.Type

export const ScenarioFile = Schema.Struct({
  description: Schema.String,
  /**
   * A known bug this scenario shows: what goes wrong, and where. The scenario is expected to fail
   * (on both engines) until the bug is fixed; then this note goes.
   */
  bug: Schema.optionalKey(Schema.String),
  /** Overrides of the default policy (milliseconds for durations). */
  policy: Schema.optionalKey(
    Schema.Struct({
      prune: Schema.optionalKey(Schema.Boolean),
      removeVolumes: Schema.optionalKey(Schema.Boolean),
      unhealthyGraceMs: Schema.optionalKey(Millis),
      healthTimeoutMs: Schema.optionalKey(Millis),
      hookTimeoutMs: Schema.optionalKey(Millis),
      restartBudget: Schema.optionalKey(Schema.Int),
      restartWindowMs: Schema.optionalKey(Millis),
      restartBackoffMs: Schema.optionalKey(Millis),
      restartBackoffMaxMs: Schema.optionalKey(Millis),
      createdGraceMs: Schema.optionalKey(Millis)
    })
  ),
  /** The in-memory engine's stand-ins, by hook script path (as written in `on_start`). */
  fake: Schema.optionalKey(Schema.Struct({ hooks: Schema.optionalKey(Schema.Record(Schema.String, HookDouble)) })),
  /** Decoded one by one against `stepSchemas`, by the key each step holds. */
  steps: Schema.Array(Schema.Unknown).check(Schema.isMinLength(1))
})
export type ScenarioFile = typeof ScenarioFile.Type
