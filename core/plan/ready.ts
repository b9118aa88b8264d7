/**
 * Readiness of a service as its dependents and consumers see it: ready now, ready after an action
 * of this plan, or blocked (it will not become ready in this plan, and why). Waits (healthy,
 * completed) are added lazily, only when something waits on them.
 */
import type { ObservedContainer } from "../model/observed.ts"
import type { ActionBuilder } from "./builder.ts"

export type Ready =
  | { readonly _tag: "Now" }
  | { readonly _tag: "After"; readonly id: string }
  | { readonly _tag: "Blocked"; readonly reason: string }

export const now: Ready = { _tag: "Now" }
export const after = (id: string): Ready => ({ _tag: "After", id })
export const blocked = (reason: string): Ready => ({ _tag: "Blocked", reason })

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

export const makeHandle = (input: HandleInput): ServiceHandle => {
  const { host, app, service, builder, observed: c } = input
  const label = `${app}/${service}`
  const wait = (kind: "wait-healthy" | "wait-completed"): Ready => {
    const id = `${host}/${app}/${service}:${kind}`
    if (!builder.has(id)) {
      builder.add({
        _tag: kind,
        id,
        host,
        app,
        service,
        reason: kind === "wait-healthy" ? "dependents wait for it to be healthy" : "dependents wait for it to complete",
        waitsFor: input.last === undefined ? [] : [input.last],
        container: { name: input.container },
        timeoutMs: input.timeoutMs
      })
    }
    return after(id)
  }
  const block = (): Ready | undefined =>
    input.blockedReason === undefined ? undefined : blocked(`${label} ${input.blockedReason}`)
  const started = (): Ready => {
    if (input.last !== undefined) return after(input.last)
    const b = block()
    if (b !== undefined) return b
    if (c === undefined) return blocked(`${label} has no container`)
    if (c.state === "running" || (c.state === "exited" && c.exitCode === 0 && input.oneShot)) return now
    return blocked(`${label} is ${c.state}`)
  }
  const healthy = (): Ready => {
    if (input.last !== undefined) return input.gated ? after(input.last) : wait("wait-healthy")
    const b = block()
    if (b !== undefined) return b
    if (c === undefined) return blocked(`${label} has no container`)
    if (c.state !== "running") return blocked(`${label} is ${c.state}`)
    if (c.health === "healthy" || c.health === "none") return now
    if (c.health === "starting") return wait("wait-healthy")
    return blocked(`${label} is unhealthy`)
  }
  const completed = (): Ready => {
    if (input.last !== undefined) return wait("wait-completed")
    const b = block()
    if (b !== undefined) return b
    if (c === undefined) return blocked(`${label} has no container`)
    if (c.state === "exited" && c.exitCode === 0) return now
    if (c.state === "running") return wait("wait-completed")
    return blocked(`${label} is ${c.state}${c.exitCode === undefined ? "" : ` (${c.exitCode})`}`)
  }
  return {
    host,
    app,
    service,
    changed: input.last !== undefined,
    started,
    healthy,
    completed,
    ready: () => (input.oneShot ? completed() : healthy())
  }
}
