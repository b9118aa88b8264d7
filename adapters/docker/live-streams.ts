/**
 * The live calls that read a stream from the engine: exec (output + exit code), logs (lines),
 * events (JSON lines), pull (progress to the end).
 */
import type { Readable } from "node:stream"
import { Effect, Queue, Stream } from "effect"
import type { DockerError, EngineEvent, ExecOptions, ExecResult } from "./Docker.ts"
import { type Connection, call, callStream } from "./connection.ts"
import { eventFromEngine, num, rec, str } from "./parse-engine.ts"
import { LineSplitter, TailBuffer, demux } from "./stream-io.ts"
import { type CallContext, engineError, translateError } from "./translate-error.ts"

export const EXEC_OUTPUT_LIMIT = 64 * 1024

/** Lifecycle events moor cares about; the engine also sends exec_* for every health probe. */
export const EVENT_ACTIONS = [
  "create",
  "start",
  "restart",
  "stop",
  "kill",
  "die",
  "oom",
  "pause",
  "unpause",
  "rename",
  "destroy",
  "health_status"
] as const

/** Resolves when `source` has ended (or closed), fails on a stream error. */
const drained = (source: Readable, ctx: CallContext): Effect.Effect<void, DockerError> =>
  Effect.callback<void, DockerError>((resume) => {
    let done = false
    const finish = (effect: Effect.Effect<void, DockerError>) => {
      if (done) return
      done = true
      resume(effect)
    }
    source.once("end", () => finish(Effect.void))
    source.once("close", () => finish(Effect.void))
    source.once("error", (e) => finish(Effect.fail(translateError(e, ctx))))
    return Effect.sync(() => source.destroy())
  })

const showCmd = (cmd: ReadonlyArray<string>): string => JSON.stringify(cmd)

export const execIn = (
  conn: Connection,
  ctx: CallContext,
  options: ExecOptions
): Effect.Effect<ExecResult, DockerError> =>
  Effect.gen(function* () {
    const ref = ctx.target ?? ""
    const created = yield* call(conn, ctx, {
      method: "POST",
      path: `/containers/${encodeURIComponent(ref)}/exec`,
      body: {
        Cmd: options.cmd,
        Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        ...(options.user === undefined ? {} : { User: options.user }),
        ...(options.privileged === true ? { Privileged: true } : {}),
        ...(options.workingDir === undefined ? {} : { WorkingDir: options.workingDir })
      }
    })
    const id = str(rec(created).Id)
    if (id === undefined) return yield* engineError(ctx, "transient", "the engine answered without an exec id")
    const startCtx: CallContext = { ...ctx, op: "exec.start" }
    const output = new TailBuffer(EXEC_OUTPUT_LIMIT)
    yield* Effect.gen(function* () {
      const res = yield* callStream(conn, startCtx, {
        method: "POST",
        path: `/exec/${id}/start`,
        body: { Detach: false, Tty: false }
      })
      const push = (chunk: Buffer) => output.push(chunk)
      demux(conn.modem, res, push, push)
      yield* drained(res, startCtx)
    }).pipe(
      Effect.timeoutOrElse({
        duration: options.timeoutMs,
        orElse: () =>
          Effect.fail(
            engineError(
              startCtx,
              "timeout",
              `${showCmd(options.cmd)} did not finish within ${options.timeoutMs} ms (the engine cannot stop an exec: the command may still be running in the container)`
            )
          )
      })
    )
    // The engine records the exit code a moment after the output ends.
    const inspectCtx: CallContext = { ...ctx, op: "exec.inspect" }
    for (let attempt = 0; attempt < 40; attempt++) {
      const info = rec(yield* call(conn, inspectCtx, { method: "GET", path: `/exec/${id}/json` }))
      const exitCode = num(info.ExitCode)
      if (info.Running !== true && exitCode !== undefined) return { exitCode, output: output.text() }
      yield* Effect.sleep(50)
    }
    return yield* engineError(
      inspectCtx,
      "transient",
      `${showCmd(options.cmd)} ended but the engine reported no exit code`
    )
  })

/** A stream of decoded items from an engine response, read until it ends. */
const fromResponse = <A>(
  open: Effect.Effect<{ readonly conn: Connection; readonly ctx: CallContext }, DockerError>,
  request: (conn: Connection, ctx: CallContext) => Effect.Effect<Readable, DockerError>,
  wire: (
    conn: Connection,
    ctx: CallContext,
    res: Readable,
    emit: (items: ReadonlyArray<A>) => void
  ) => { readonly onEnd: () => Effect.Effect<void, DockerError> }
): Stream.Stream<A, DockerError> =>
  Stream.callback<A, DockerError>((queue) =>
    Effect.gen(function* () {
      const { conn, ctx } = yield* open
      const res = yield* request(conn, ctx)
      yield* Effect.addFinalizer(() => Effect.sync(() => res.destroy()))
      const { onEnd } = wire(conn, ctx, res, (items) => {
        if (items.length > 0) Queue.offerAllUnsafe(queue, items)
      })
      const ended = yield* Effect.exit(Effect.andThen(drained(res, ctx), onEnd()))
      if (ended._tag === "Success") Queue.endUnsafe(queue)
      else Queue.failCauseUnsafe(queue, ended.cause)
    })
  )

export const followLogs = (
  open: Effect.Effect<{ readonly conn: Connection; readonly ctx: CallContext }, DockerError>,
  options: { readonly follow: boolean; readonly tail?: number | undefined }
): Stream.Stream<string, DockerError> =>
  fromResponse<string>(
    open,
    (conn, ctx) =>
      callStream(conn, ctx, {
        method: "GET",
        path: `/containers/${encodeURIComponent(ctx.target ?? "")}/logs`,
        query: {
          stdout: true,
          stderr: true,
          follow: options.follow,
          ...(options.tail === undefined ? {} : { tail: options.tail })
        }
      }),
    (conn, _ctx, res, emit) => {
      const out = new LineSplitter()
      const err = new LineSplitter()
      demux(
        conn.modem,
        res,
        (c) => emit(out.push(c)),
        (c) => emit(err.push(c))
      )
      return { onEnd: () => Effect.sync(() => emit([...out.flush(), ...err.flush()])) }
    }
  )

export const followEvents = (
  open: Effect.Effect<{ readonly conn: Connection; readonly ctx: CallContext }, DockerError>,
  scope: string
): Stream.Stream<EngineEvent, DockerError> =>
  fromResponse<EngineEvent>(
    open,
    (conn, ctx) =>
      callStream(conn, ctx, {
        method: "GET",
        path: "/events",
        query: { filters: { type: ["container"], label: [`moor.scope=${scope}`], event: EVENT_ACTIONS } }
      }),
    (_conn, ctx, res, emit) => {
      const lines = new LineSplitter()
      const decode = (ls: ReadonlyArray<string>) =>
        ls.flatMap((l) => {
          if (l.trim() === "") return []
          try {
            const e = eventFromEngine(JSON.parse(l))
            return e === undefined ? [] : [e]
          } catch {
            return []
          }
        })
      res.on("data", (c: Buffer) => emit(decode(lines.push(c))))
      // The event stream has no end: when the engine closes it (restart, shutdown), say so.
      return { onEnd: () => Effect.fail(engineError(ctx, "transient", "the engine closed the event stream")) }
    }
  )

const pullErrorKind = (message: string) =>
  /not found|does not exist|manifest unknown|no such image/i.test(message)
    ? ("not-found" as const)
    : /unauthorized|denied|authentication required|invalid reference/i.test(message)
      ? ("rejected" as const)
      : ("transient" as const)

/** Pulls and follows the progress to its end; an error line in the progress fails the pull. */
export const followPull = (
  conn: Connection,
  ctx: CallContext,
  query: Readonly<Record<string, string>>
): Effect.Effect<void, DockerError> =>
  Effect.gen(function* () {
    const res = yield* callStream(conn, ctx, { method: "POST", path: "/images/create", query })
    const lines = new LineSplitter()
    let failure: string | undefined
    const scan = (ls: ReadonlyArray<string>) => {
      for (const l of ls) {
        if (failure !== undefined || l.trim() === "") continue
        try {
          const j = rec(JSON.parse(l))
          const detail = str(rec(j.errorDetail).message) ?? str(j.error)
          if (detail !== undefined) failure = detail
        } catch {
          // progress lines are JSON; anything else carries no error
        }
      }
    }
    res.on("data", (c: Buffer) => scan(lines.push(c)))
    yield* drained(res, ctx)
    scan(lines.flush())
    if (failure !== undefined) return yield* engineError(ctx, pullErrorKind(failure), failure)
  })
