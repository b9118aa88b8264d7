/**
 * One action, as engine calls. No decisions here: the plan says what to do; this says how, one
 * operation per call. A container referred to by name only is checked to be this scope's before a
 * stop, remove or rename.
 *
 * Another runner (or a person) may have done the same thing a moment before, between the
 * observation the plan comes from and the call (docs/reliability.md, "Races between runners"):
 * what is already there is done (a network, a volume, the same container, a container already
 * started, stopped or renamed, a replacement already made), what is already gone is done (a
 * container, network or volume removed); a real conflict fails with a message that says what holds
 * the name or uses the thing, and what to do.
 */
import { Duration, Effect } from "effect"
import { Docker, type DockerError, retold } from "../../adapters/docker/Docker.ts"
import { Label } from "../../core/names.ts"
import type { ObservedContainer } from "../../core/model/observed.ts"
import type { Action, ContainerRef, ExecHookConfig, Step } from "../../core/model/plan.ts"
import { ActionFailed, type CallOptions, engineCall } from "./engine-call.ts"
import { lastBytes } from "./result.ts"
import { waitCompleted, waitHealthy } from "./wait.ts"

export interface RunOptions extends CallOptions {
  readonly scope: string
  /** Hides the values no output may show (core/redact.ts); a hook's output is redacted before it is cut. */
  readonly redact: (text: string) => string
  readonly pullTimeoutMs: number
  readonly callTimeoutMs: number
}

const refOf = (c: ContainerRef): string => c.id ?? c.name

/** Gone from the engine: what a stop or a removal wanted. */
const isGone = (e: DockerError): boolean => e.kind === "not-found"
const done = () => Effect.void

/**
 * Refuses to act on a container, named but not identified, that does not carry this scope's label;
 * returns what the name holds now (undefined: nothing, or the container was identified by id).
 */
const ensureOwned = (o: RunOptions, host: string, c: ContainerRef) =>
  Effect.gen(function* () {
    if (c.id !== undefined) return undefined
    const docker = yield* Docker
    const found = yield* engineCall(o, `inspect ${c.name}`, o.callTimeoutMs, docker.inspectContainer(host, c.name))
    if (found !== undefined && found.labels[Label.scope] !== o.scope) {
      return yield* new ActionFailed({
        message: `refusing to touch container ${c.name}: it does not carry ${Label.scope}=${o.scope}`
      })
    }
    return found
  })

/** `post_start` / `pre_stop` commands, one after the other inside the container; the first that fails ends it. */
const runExecHooks = (
  o: RunOptions,
  host: string,
  container: string,
  kind: string,
  hooks: ReadonlyArray<ExecHookConfig>
) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    for (const hook of hooks) {
      const what = `${kind} ${JSON.stringify(hook.command)} in ${container}`
      const result = yield* engineCall(
        o,
        what,
        o.callTimeoutMs + 5000,
        docker.exec(host, container, {
          cmd: hook.command,
          env: Object.fromEntries(hook.env ?? []),
          timeoutMs: o.callTimeoutMs,
          user: hook.user,
          privileged: hook.privileged,
          workingDir: hook.workingDir
        })
      )
      if (result.exitCode !== 0) {
        const out = o.redact(result.output).trim()
        return yield* new ActionFailed({
          message: `${what} exited with ${result.exitCode}${out === "" ? "" : `: ${lastBytes(out, 1000)}`}`
        })
      }
    }
  })

/** This scope's container, made from the spec whose hash is `hash`. */
const isOurs = (o: RunOptions, c: ObservedContainer | undefined, hash: string | undefined): boolean =>
  c !== undefined && c.labels[Label.scope] === o.scope && hash !== undefined && c.labels[Label.hash] === hash

const ownerOf = (c: ObservedContainer): string =>
  c.labels[Label.scope] === undefined ? `no ${Label.scope} label` : `${Label.scope}=${c.labels[Label.scope]}`

export const runStep = (o: RunOptions, host: string, step: Step, expectedHash?: string) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const call = <A>(what: string, eff: Effect.Effect<A, DockerError>, timeoutMs = o.callTimeoutMs) =>
      engineCall(o, what, timeoutMs, eff)
    switch (step._tag) {
      case "create": {
        // Another runner (one that does not share this one's leases) may have created the very same
        // container a moment ago: that is done, not a failure. Anything else holding the name is, and
        // no retry frees the name: it fails at once, saying what holds it.
        const config = step.container
        const hash = config.labels[Label.hash]
        const created = docker.createContainer(host, config).pipe(
          Effect.asVoid,
          Effect.catchIf(
            (e) => e.kind === "conflict",
            (e) =>
              Effect.flatMap(docker.inspectContainer(host, config.name), (there) =>
                // Gone again (being removed): the conflict stands, and is retried.
                there === undefined
                  ? Effect.fail(e)
                  : isOurs(o, there, hash)
                    ? done()
                    : Effect.fail(
                        retold(
                          e,
                          there.labels[Label.scope] === o.scope
                            ? `the name ${config.name} was taken a moment ago by a container of this scope made from another version of the spec (another runner?); the next pass reconciles it`
                            : `the name ${config.name} is taken by a container moor does not own here (${ownerOf(there)}, id ${there.id.slice(0, 12)}): remove or rename that container, or rename the service`,
                          "rejected"
                        )
                      )
              )
          )
        )
        yield* call(`create ${config.name}`, created)
        return
      }
      case "start": {
        // A 404 is the container gone, or one of its networks: say which.
        const ref = refOf(step.container)
        const started = docker
          .startContainer(host, ref)
          .pipe(
            Effect.catchIf(isGone, (e) =>
              Effect.flatMap(docker.inspectContainer(host, ref), (there) =>
                Effect.fail(
                  there !== undefined
                    ? e
                    : retold(
                        e,
                        `${step.container.name} is gone: it was removed since it was observed (by another runner, or by hand); the next pass creates it again`
                      )
                )
              )
            )
          )
        yield* call(`start ${step.container.name}`, started)
        if (step.postStart !== undefined) yield* runExecHooks(o, host, ref, "post_start", step.postStart)
        return
      }
      case "stop": {
        yield* ensureOwned(o, host, step.container)
        // pre_stop commands run while the container still runs; one that fails does not keep it running.
        if (step.preStop !== undefined)
          yield* runExecHooks(o, host, refOf(step.container), "pre_stop", step.preStop).pipe(
            Effect.catchTag("ActionFailed", (e) => Effect.logWarning(e.message))
          )
        const grace = step.timeoutMs ?? 10_000
        yield* call(
          `stop ${step.container.name}`,
          // Stopped already, or gone: it is not running, which is what was asked.
          docker.stopContainer(host, refOf(step.container), grace).pipe(Effect.catchIf(isGone, done)),
          grace + o.callTimeoutMs
        )
        return
      }
      case "remove":
        yield* ensureOwned(o, host, step.container)
        yield* call(`remove ${step.container.name}`, docker.removeContainer(host, refOf(step.container)))
        return
      case "rename": {
        // Renamed by id, so that a retry (or another runner) finding it renamed already knows it is the same.
        const found = yield* ensureOwned(o, host, step.container)
        const id = step.container.id ?? found?.id
        const renamed = docker.renameContainer(host, id ?? step.container.name, step.to).pipe(
          Effect.catch((e) =>
            e.kind === "unreachable" || e.kind === "timeout" || e.kind === "transient"
              ? Effect.fail(e)
              : Effect.flatMap(docker.inspectContainer(host, step.to), (there) =>
                  // Already named so: the same container (by id), or, when only its old name was known
                  // and it is gone, this scope's container of the replacement's spec.
                  there !== undefined && (id !== undefined ? there.id === id : isOurs(o, there, expectedHash))
                    ? done()
                    : Effect.fail(
                        isGone(e)
                          ? retold(
                              e,
                              `${step.container.name} is gone: it was removed since it was observed (by another runner, or by hand)`
                            )
                          : e
                      )
                )
          )
        )
        yield* call(`rename ${step.container.name} to ${step.to}`, renamed)
        return
      }
      case "wait-healthy":
        yield* waitHealthy(o, host, step.container.name, step.timeoutMs, step.monitorMs)
        return
    }
  })

const stepText = (s: Step): string =>
  s._tag === "rename" ? `rename ${s.container.name} to ${s.to}` : `${s._tag} ${s.container.name}`

/**
 * The steps of a replacement; when one fails, the rollback steps (best effort) bring the old container
 * back. A replacement another runner made a moment before (the old container gone, the new one under
 * the service's name) is done.
 */
const replace = (o: RunOptions, action: Extract<Action, { readonly _tag: "recreate" }>) =>
  Effect.gen(function* () {
    if (action.delayMs !== undefined) yield* Effect.sleep(Duration.millis(action.delayMs))
    const docker = yield* Docker
    const hash = action.container.labels[Label.hash]
    if (action.current.id !== undefined) {
      const inspect = (ref: string) =>
        engineCall(o, `inspect ${ref}`, o.callTimeoutMs, docker.inspectContainer(action.host, ref))
      if ((yield* inspect(action.current.id)) === undefined && isOurs(o, yield* inspect(action.container.name), hash))
        return
    }
    for (const [i, step] of action.steps.entries()) {
      const failed = yield* runStep(o, action.host, step, hash).pipe(
        Effect.as(undefined),
        Effect.catchTag("ActionFailed", (e) => Effect.succeed(e))
      )
      if (failed === undefined) continue
      const rollbackErrors: Array<string> = []
      for (const r of action.rollback) {
        yield* runStep(o, action.host, r).pipe(
          Effect.catchTag("ActionFailed", (e) => Effect.sync(() => rollbackErrors.push(e.message)))
        )
      }
      const rolledBack =
        action.rollback.length === 0
          ? ""
          : rollbackErrors.length === 0
            ? `; rolled back, ${action.current.name} kept`
            : `; rollback incomplete: ${rollbackErrors.join("; ")}`
      return yield* new ActionFailed({
        message: `replacement failed at step ${i + 1} (${stepText(step)}): ${failed.message}${rolledBack}`
      })
    }
  })

/** Runs one action; returns a hook's output when there is one. */
export const runAction = (o: RunOptions, action: Action): Effect.Effect<string | undefined, ActionFailed, Docker> =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const host = action.host
    switch (action._tag) {
      case "ensure-network":
        // A conflict: the network exists now (another runner made it), which is what was wanted.
        yield* engineCall(
          o,
          `create network ${action.network.name}`,
          o.callTimeoutMs,
          docker.createNetwork(host, action.network).pipe(
            Effect.catchIf(
              (e) => e.kind === "conflict",
              () => Effect.void
            )
          )
        )
        return undefined
      case "ensure-volume":
        yield* engineCall(
          o,
          `create volume ${action.volume.name}`,
          o.callTimeoutMs,
          docker.createVolume(host, action.volume)
        )
        return undefined
      case "pull-image":
        yield* engineCall(o, `pull ${action.image}`, o.pullTimeoutMs, docker.pull(host, action.image, action.platform))
        return undefined
      case "create":
        yield* runStep(o, host, { _tag: "create", container: action.container })
        return undefined
      case "start":
        yield* runStep(o, host, {
          _tag: "start",
          container: action.container,
          ...(action.postStart === undefined ? {} : { postStart: action.postStart })
        })
        return undefined
      case "stop":
        yield* runStep(o, host, {
          _tag: "stop",
          container: action.container,
          ...(action.timeoutMs === undefined ? {} : { timeoutMs: action.timeoutMs }),
          ...(action.preStop === undefined ? {} : { preStop: action.preStop })
        })
        return undefined
      case "remove":
        yield* runStep(o, host, { _tag: "remove", container: action.container })
        return undefined
      case "remove-network":
        // Gone already: done. Still used (a container attached since the observation): kept, saying so.
        yield* engineCall(
          o,
          `remove network ${action.network}`,
          o.callTimeoutMs,
          docker.removeNetwork(host, action.network).pipe(
            Effect.catchIf(isGone, done),
            Effect.mapError((e) =>
              e.kind === "conflict"
                ? retold(
                    e,
                    `network ${action.network} is still in use: a container was attached to it since it was observed (another runner, or a person); it is kept (the engine said: ${e.message})`
                  )
                : e
            )
          )
        )
        return undefined
      case "remove-volume":
        yield* engineCall(
          o,
          `remove volume ${action.volume}`,
          o.callTimeoutMs,
          docker.removeVolume(host, action.volume).pipe(
            Effect.catchIf(isGone, done),
            Effect.mapError((e) =>
              e.kind === "conflict"
                ? retold(
                    e,
                    `volume ${action.volume} is in use: a container that mounts it was made since it was observed (another runner, or a person); it is kept, with its data (the engine said: ${e.message})`
                  )
                : e
            )
          )
        )
        return undefined
      case "recreate":
        yield* replace(o, action)
        return undefined
      case "run-hook": {
        if (action.script === "") return yield* new ActionFailed({ message: "the hook has no script" })
        const content = action.content
        if (content === undefined) {
          return yield* new ActionFailed({ message: `the hook script ${action.script} was not loaded with the spec` })
        }
        const result = yield* engineCall(
          o,
          `hook ${action.script} in ${action.container.name}`,
          action.timeoutMs + 5000,
          docker.exec(host, action.container.name, {
            cmd: ["sh", "-c", content],
            env: action.env,
            timeoutMs: action.timeoutMs
          })
        )
        const output = o.redact(result.output)
        if (result.exitCode !== 0) {
          return yield* new ActionFailed({
            message: `hook ${action.script} exited with ${result.exitCode}${output.trim() === "" ? "" : `: ${lastBytes(output.trim(), 1000)}`}`
          })
        }
        return lastBytes(output)
      }
      case "wait-healthy":
        yield* waitHealthy(o, host, action.container.name, action.timeoutMs)
        return undefined
      case "wait-completed":
        yield* waitCompleted(o, host, action.container.name, action.timeoutMs)
        return undefined
      case "skip":
        return undefined
    }
  })
