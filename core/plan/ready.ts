/**
 * Readiness of a service as its dependents and consumers see it: ready now, ready after an action
 * of this plan, or blocked (it will not become ready in this plan, and why). Waits (healthy,
 * completed) are added lazily, only when something waits on them.
 */
import type { ObservedContainer } from "../model/observed.ts"
import type { ActionBuilder } from "./builder.ts"

export type Ready =
  | { readonly _tag: "Now" }
  | { readonly _tag: "After"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "Blocked"; readonly reason: string }

export const now: Ready = { _tag: "Now" }
export const after = (id: string): Ready => ({ _tag: "After", ids: [id] })
export const blocked = (reason: string): Ready => ({ _tag: "Blocked", reason })

/** Ready when all are: blocked by the first that is blocked, else after every action they wait for. */
export const all = (readies: ReadonlyArray<Ready>): Ready => {
  const ids: Array<string> = []
  for (const r of readies) {
    if (r._tag === "Blocked") return r
    if (r._tag === "After") ids.push(...r.ids)
  }
  return ids.length === 0 ? now : { _tag: "After", ids }
}

/**
 * The id of a service's action on a host: `host/app/service:suffix` for its first container,
 * `host/app/service[n]:suffix` for replica n.
 */
export const serviceActionId = (host: string, app: string, service: string, replica: number, suffix: string): string =>
  `${host}/${app}/${service}${replica === 1 ? "" : `[${replica}]`}:${suffix}`

export interface ServiceHandle {
  readonly host: string
  readonly app: string
  readonly service: string
  /** The service's actions in this plan change the engine. */
  readonly changed: boolean
  readonly started: () => Ready
  readonly healthy: () => Ready
  readonly completed: () => Ready
  /** healthy for long-running services, completed for one-shot jobs. */
  readonly ready: () => Ready
}

export interface HandleInput {
  readonly host: string
  readonly app: string
  readonly service: string
  readonly container: string
  /** Which of the service's containers (from 1). */
  readonly replica: number
  readonly oneShot: boolean
  readonly timeoutMs: number
  /** The last action of the service's chain in this plan, if it has one. */
  readonly last: string | undefined
  /** The chain already ends with a health gate (a start-first or stop-first replacement). */
  readonly gated: boolean
  /** Why the service cannot become ready in this plan, when it cannot. */
  readonly blockedReason: string | undefined
  readonly observed: ObservedContainer | undefined
  readonly builder: ActionBuilder
}

class Handle implements ServiceHandle {
  readonly host: string
  readonly app: string
  readonly service: string
  readonly changed: boolean
  private readonly input: HandleInput

  constructor(input: HandleInput) {
    this.input = input
    this.host = input.host
    this.app = input.app
    this.service = input.service
    this.changed = input.last !== undefined
  }

  private wait(kind: "wait-healthy" | "wait-completed"): Ready {
    const { host, app, service, builder, last } = this.input
    const id = serviceActionId(host, app, service, this.input.replica, kind)
    if (!builder.has(id)) {
      builder.add({
        _tag: kind,
        id,
        host,
        app,
        service,
        reason: kind === "wait-healthy" ? "dependents wait for it to be healthy" : "dependents wait for it to complete",
        waitsFor: last === undefined ? [] : [last],
        container: { name: this.input.container },
        timeoutMs: this.input.timeoutMs
      })
    }
    return after(id)
  }

  private block(): Ready | undefined {
    const reason = this.input.blockedReason
    return reason === undefined ? undefined : blocked(`${this.app}/${this.service} ${reason}`)
  }

  started(): Ready {
    const { last, observed: c, oneShot } = this.input
    if (last !== undefined) return after(last)
    const b = this.block()
    if (b !== undefined) return b
    if (c === undefined) return blocked(`${this.app}/${this.service} has no container`)
    if (c.state === "running" || (c.state === "exited" && c.exitCode === 0 && oneShot)) return now
    return blocked(`${this.app}/${this.service} is ${c.state}`)
  }

  healthy(): Ready {
    const { last, observed: c, gated } = this.input
    if (last !== undefined) return gated ? after(last) : this.wait("wait-healthy")
    const b = this.block()
    if (b !== undefined) return b
    if (c === undefined) return blocked(`${this.app}/${this.service} has no container`)
    if (c.state !== "running") return blocked(`${this.app}/${this.service} is ${c.state}`)
    if (c.health === "healthy" || c.health === "none") return now
    if (c.health === "starting") return this.wait("wait-healthy")
    return blocked(`${this.app}/${this.service} is unhealthy`)
  }

  completed(): Ready {
    const { last, observed: c } = this.input
    if (last !== undefined) return this.wait("wait-completed")
    const b = this.block()
    if (b !== undefined) return b
    if (c === undefined) return blocked(`${this.app}/${this.service} has no container`)
    if (c.state === "exited" && c.exitCode === 0) return now
    if (c.state === "running") return this.wait("wait-completed")
    return blocked(`${this.app}/${this.service} is ${c.state}${c.exitCode === undefined ? "" : ` (${c.exitCode})`}`)
  }

  ready(): Ready {
    return this.input.oneShot ? this.completed() : this.healthy()
  }
}

export const makeHandle = (input: HandleInput): ServiceHandle => new Handle(input)

/** A service of several replicas is ready when every replica is. */
export const combineHandles = (handles: ReadonlyArray<ServiceHandle>, first: ServiceHandle): ServiceHandle =>
  handles.length === 1
    ? first
    : {
        host: first.host,
        app: first.app,
        service: first.service,
        changed: handles.some((h) => h.changed),
        started: () => all(handles.map((h) => h.started())),
        healthy: () => all(handles.map((h) => h.healthy())),
        completed: () => all(handles.map((h) => h.completed())),
        ready: () => all(handles.map((h) => h.ready()))
      }
