/**
 * One action, as engine calls. No decisions here: the plan says what to do; this says how, one
 * operation per call. A container referred to by name only is checked to be this scope's before a
 * stop, remove or rename.
 */
import { Duration, Effect } from "effect"
import { Docker, type DockerError } from "../../adapters/docker/Docker.ts"
import { Label } from "../../core/names.ts"
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

/** Refuses to act on a container, named but not identified, that does not carry this scope's label. */
const ensureOwned = (o: RunOptions, host: string, c: ContainerRef) =>
  Effect.gen(function* () {
    if (c.id !== undefined) return
    const docker = yield* Docker
    const found = yield* engineCall(o, `inspect ${c.name}`, o.callTimeoutMs, docker.inspectContainer(host, c.name))
    if (found !== undefined && found.labels[Label.scope] !== o.scope) {
      return yield* new ActionFailed({
        message: `refusing to touch container ${c.name}: it does not carry ${Label.scope}=${o.scope}`
      })
    }
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

export const runStep = (o: RunOptions, host: string, step: Step) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const call = <A>(what: string, eff: Effect.Effect<A, DockerError>, timeoutMs = o.callTimeoutMs) =>
      engineCall(o, what, timeoutMs, eff)
    switch (step._tag) {
      case "create": {
        // Another runner (one that does not share this one's leases) may have created the very same
        // container a moment ago: that is done, not a failure. Anything else holding the name is.
        const config = step.container
        const created = docker.createContainer(host, config).pipe(
          Effect.asVoid,
          Effect.catchIf(
            (e) => e.kind === "conflict",
            (e) =>
              Effect.flatMap(docker.inspectContainer(host, config.name), (there) =>
                there !== undefined &&
                there.labels[Label.scope] === o.scope &&
                there.labels[Label.hash] !== undefined &&
                there.labels[Label.hash] === config.labels[Label.hash]
                  ? Effect.void
                  : Effect.fail(e)
              )
          )
        )
        yield* call(`create ${config.name}`, created)
        return
      }
      case "start":
        yield* call(`start ${step.container.name}`, docker.startContainer(host, refOf(step.container)))
        if (step.postStart !== undefined)
          yield* runExecHooks(o, host, refOf(step.container), "post_start", step.postStart)
        return
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
          docker.stopContainer(host, refOf(step.container), grace),
          grace + o.callTimeoutMs
        )
        return
      }
      case "remove":
        yield* ensureOwned(o, host, step.container)
        yield* call(`remove ${step.container.name}`, docker.removeContainer(host, refOf(step.container)))
        return
      case "rename":
        yield* ensureOwned(o, host, step.container)
        yield* call(
          `rename ${step.container.name} to ${step.to}`,
          docker.renameContainer(host, refOf(step.container), step.to)
        )
        return
      case "wait-healthy":
        yield* waitHealthy(o, host, step.container.name, step.timeoutMs, step.monitorMs)
        return
    }
  })

const stepText = (s: Step): string =>
  s._tag === "rename" ? `rename ${s.container.name} to ${s.to}` : `${s._tag} ${s.container.name}`

/** The steps of a replacement; when one fails, the rollback steps (best effort) bring the old container back. */
const replace = (o: RunOptions, action: Extract<Action, { readonly _tag: "recreate" }>) =>
  Effect.gen(function* () {
    if (action.delayMs !== undefined) yield* Effect.sleep(Duration.millis(action.delayMs))
    for (const [i, step] of action.steps.entries()) {
      const failed = yield* runStep(o, action.host, step).pipe(
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
        yield* engineCall(
          o,
          `remove network ${action.network}`,
          o.callTimeoutMs,
          docker.removeNetwork(host, action.network)
        )
        return undefined
      case "remove-volume":
        yield* engineCall(
          o,
          `remove volume ${action.volume}`,
          o.callTimeoutMs,
          docker.removeVolume(host, action.volume)
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
