/**
 * `PassQueue`: a single-flight queue of reconcile passes. At most one pass runs at a time in this
 * process (so passes never overlap on a host; across processes the repo's leases do that); while it
 * runs, every further request merges into one follow-up pass: the union of their app selections
 * (all apps when any asked for all), images and checkout updates. A request gets the id of the pass
 * that will do its work, at once.
 *
 * Passes run in a scope that lives as long as the layer (the server). When the layer closes, new
 * requests are refused, the queued pass is cancelled and the running one may finish, up to the
 * drain timeout, before it is interrupted.
 */
import { Context, Deferred, Duration, Effect, Layer, Queue, Schema, Scope } from "effect"
import type { Docker } from "../../adapters/docker/Docker.ts"
import type { Bus } from "../../adapters/bus/Bus.ts"
import type { Repo } from "../../adapters/repo/Repo.ts"
import { newHolderId, newPassId, runIdOf } from "../pass/ids.ts"
import type { Git } from "./git.ts"
import type { Heartbeat } from "./heartbeat.ts"
import type { Metrics } from "./metrics.ts"
import { type JobReport, type JobSpec, runJob } from "./pass-job.ts"
import { Settings } from "./settings.ts"
import type { SpecSource } from "./spec-source.ts"

export interface PassRequest {
  /** Only these apps (and what they need); undefined with no images: all apps. */
  readonly apps?: ReadonlyArray<string> | undefined
  /** Pull these first and reconcile the apps that run them. */
  readonly images?: ReadonlyArray<string> | undefined
  /** Update the spec checkout first. */
  readonly syncCheckout?: boolean | undefined
  /** Why, for the logs and the pass's status: `POST /v1/reconcile`, `github push abc123`... */
  readonly reason: string
}

export interface Ticket {
  readonly passId: string
  /** The runs the pass will record, one per host: `<passId>-<host>`. */
  readonly runIds: ReadonlyArray<string>
  /** Merged into a pass that was already waiting. */
  readonly coalesced: boolean
  /** `running`: the pass started for this request; `queued`: it starts when the running one ends. */
  readonly state: "running" | "queued"
}

export interface PassStatus {
  readonly id: string
  readonly state: "queued" | "running" | "finished"
  readonly requestedAt: number
  /** How many requests this pass serves. */
  readonly requests: number
  readonly reasons: ReadonlyArray<string>
  readonly all: boolean
  readonly apps: ReadonlyArray<string>
  readonly images: ReadonlyArray<string>
  readonly hosts: ReadonlyArray<string>
  readonly report?: JobReport | undefined
}

export class QueueClosed extends Schema.TaggedError<QueueClosed>()("QueueClosed", {
  message: Schema.String
}) {}

export interface PassQueueShape {
  readonly submit: (request: PassRequest, hosts: ReadonlyArray<string>) => Effect.Effect<Ticket, QueueClosed>
  /** A pass this process ran or will run (the last few hundred are remembered). */
  readonly status: (passId: string) => Effect.Effect<PassStatus | undefined>
  /** Waits until the pass has finished (or was cancelled); undefined for an unknown id. */
  readonly awaitPass: (passId: string) => Effect.Effect<PassStatus | undefined>
  readonly counts: Effect.Effect<{ readonly running: number; readonly queued: number }>
}

interface Job {
  readonly id: string
  readonly requestedAt: number
  state: "queued" | "running" | "finished"
  all: boolean
  readonly apps: Set<string>
  readonly images: Set<string>
  syncCheckout: boolean
  readonly reasons: Array<string>
  readonly hosts: Set<string>
  requests: number
  report: JobReport | undefined
  readonly done: Deferred.Deferred<void>
}

/** Finished passes remembered for `status`. */
const REMEMBERED = 500
const MAX_REASONS = 50

const statusOf = (job: Job): PassStatus => ({
  id: job.id,
  state: job.state,
  requestedAt: job.requestedAt,
  requests: job.requests,
  reasons: [...job.reasons],
  all: job.all,
  apps: [...job.apps].sort(),
  images: [...job.images].sort(),
  hosts: [...job.hosts].sort(),
  report: job.report
})

const specOf = (job: Job): JobSpec => ({
  id: job.id,
  all: job.all,
  apps: new Set(job.apps),
  images: new Set(job.images),
  syncCheckout: job.syncCheckout,
  reasons: [...job.reasons]
})

const merge = (job: Job, request: PassRequest, hosts: ReadonlyArray<string>): void => {
  const images = request.images ?? []
  if (request.apps === undefined && images.length === 0) job.all = true
  for (const a of request.apps ?? []) job.apps.add(a)
  for (const i of images) job.images.add(i)
  if (request.syncCheckout === true) job.syncCheckout = true
  for (const h of hosts) job.hosts.add(h)
  if (job.reasons.length < MAX_REASONS) job.reasons.push(request.reason)
  job.requests++
}

export class PassQueue extends Context.Service<PassQueue, PassQueueShape>()("moor/http/PassQueue") {
  static readonly layer: Layer.Layer<
    PassQueue,
    never,
    Settings | SpecSource | Docker | Repo | Bus | Git | Heartbeat | Metrics
  > = Layer.effect(
    PassQueue,
    Effect.gen(function* () {
      const settings = yield* Settings
      const context = yield* Effect.context<SpecSource | Docker | Repo | Bus | Git | Heartbeat | Metrics | Settings>()
      const holder = yield* newHolderId
      const layerScope = yield* Effect.scope
      // Passes run in their own scope, closed after the drain below (finalizers run last-added first).
      const jobsScope = yield* Scope.fork(layerScope, "sequential")

      const jobs = new Map<string, Job>()
      let running: Job | undefined
      let next: Job | undefined
      let closed = false

      const forget = () => {
        let finished = 0
        for (const j of jobs.values()) if (j.state === "finished") finished++
        for (const [id, j] of jobs) {
          if (finished <= REMEMBERED) break
          if (j.state !== "finished") continue
          jobs.delete(id)
          finished--
        }
      }

      const finish = (job: Job, report: JobReport) =>
        Effect.gen(function* () {
          job.report = report
          job.state = "finished"
          yield* Deferred.succeed(job.done, undefined)
        })

      // One worker runs the passes, in the layer's context (not a request's), one after the other.
      const wake = yield* Queue.sliding<true>(1)
      const worker = Effect.gen(function* () {
        yield* Queue.take(wake)
        let job = running
        while (job !== undefined) {
          const current = job
          const report = yield* runJob(specOf(current), holder).pipe(
            Effect.provide(context),
            Effect.onInterrupt(() =>
              Effect.flatMap(
                Effect.clockWith((c) => c.currentTimeMillis),
                (at) =>
                  finish(current, {
                    outcome: "cancelled",
                    startedAt: at,
                    finishedAt: at,
                    apps: undefined,
                    runs: [],
                    notes: ["interrupted: the server shut down before the pass finished"]
                  })
              )
            )
          )
          yield* finish(current, report)
          job = yield* Effect.sync(() => {
            running = next
            next = undefined
            if (running !== undefined) running.state = "running"
            forget()
            return running
          })
        }
      }).pipe(Effect.forever)
      yield* Effect.forkIn(worker, jobsScope)

      const submit = Effect.fn("PassQueue.submit")(function* (request: PassRequest, hosts: ReadonlyArray<string>) {
        const freshId = yield* newPassId
        const requestedAt = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const done = yield* Deferred.make<void>()
        const decided = yield* Effect.sync(() => {
          if (closed) return undefined
          const fresh = (): Job => ({
            id: jobs.has(freshId) ? `${freshId}x` : freshId,
            requestedAt,
            state: "queued",
            all: false,
            apps: new Set(),
            images: new Set(),
            syncCheckout: false,
            reasons: [],
            hosts: new Set(),
            requests: 0,
            report: undefined,
            done
          })
          let job: Job
          let coalesced = false
          let start = false
          if (running === undefined) {
            job = running = fresh()
            job.state = "running"
            start = true
          } else if (next === undefined) job = next = fresh()
          else {
            job = next
            coalesced = true
          }
          merge(job, request, hosts)
          jobs.set(job.id, job)
          return { job, coalesced, start }
        })
        if (decided === undefined)
          return yield* new QueueClosed({ message: "moor serve is shutting down: no new passes are started" })
        const { job, coalesced, start } = decided
        if (start) yield* Queue.offer(wake, true)
        yield* Effect.logInfo(
          `${request.reason}: ${start ? "starting" : coalesced ? "merged into queued" : "queued"} pass ${job.id}`
        )
        return {
          passId: job.id,
          runIds: hosts.map((h) => runIdOf(job.id, h)),
          coalesced,
          state: job.state === "running" ? "running" : "queued"
        } satisfies Ticket
      })

      // On shutdown: refuse new passes, cancel the queued one, let the running one finish (bounded).
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          const { current, cancelled } = yield* Effect.sync(() => {
            closed = true
            const cancelled = next
            next = undefined
            return { current: running, cancelled }
          })
          if (cancelled !== undefined) {
            yield* Effect.logWarning(`shutting down: queued pass ${cancelled.id} is cancelled`)
            const at = yield* Effect.clockWith((c) => c.currentTimeMillis)
            yield* finish(cancelled, {
              outcome: "cancelled",
              startedAt: at,
              finishedAt: at,
              apps: undefined,
              runs: [],
              notes: ["cancelled: the server shut down before it started"]
            })
          }
          if (current === undefined) return
          yield* Effect.logInfo(
            `shutting down: waiting up to ${settings.drainTimeoutMs / 1000} s for pass ${current.id} to finish`
          )
          const finished = yield* Deferred.await(current.done).pipe(
            Effect.timeoutOption(Duration.millis(settings.drainTimeoutMs))
          )
          if (finished._tag === "None")
            yield* Effect.logWarning(`shutting down: pass ${current.id} did not finish in time and is interrupted`)
        })
      )

      return PassQueue.of({
        submit,
        status: (id) =>
          Effect.sync(() => {
            const job = jobs.get(id)
            return job === undefined ? undefined : statusOf(job)
          }),
        awaitPass: (id) =>
          Effect.gen(function* () {
            const job = jobs.get(id)
            if (job === undefined) return undefined
            yield* Deferred.await(job.done)
            return statusOf(job)
          }),
        counts: Effect.sync(() => ({ running: running === undefined ? 0 : 1, queued: next === undefined ? 0 : 1 }))
      })
    })
  )
}
