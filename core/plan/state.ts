/** Rule 7: an app's state on a host, aggregated from its containers. */
import type { ObservedContainer } from "../model/observed.ts"
import type { AppState } from "../model/plan.ts"

export type ServiceCondition = "ok" | "starting" | "failing" | "missing"

export const serviceCondition = (c: ObservedContainer | undefined, oneShot: boolean): ServiceCondition => {
  if (c === undefined) return "missing"
  switch (c.state) {
    case "running":
      return c.health === "starting" ? "starting" : c.health === "unhealthy" ? "failing" : "ok"
    case "exited":
      return oneShot && c.exitCode === 0 ? "ok" : "failing"
    default:
      return "failing"
  }
}

/** `running healthy`, `exited (3)`, `completed`, `missing`. */
export const describeContainer = (c: ObservedContainer | undefined, oneShot: boolean): string => {
  if (c === undefined) return "missing"
  if (c.state === "exited" && oneShot && c.exitCode === 0) return "completed"
  if (c.state === "running") return c.health === "none" ? "running" : `running ${c.health}`
  return c.exitCode === undefined || c.state !== "exited" ? c.state : `exited (${c.exitCode})`
}

/**
 * running: every service ok; pending: nothing failing but something starting or missing (or nothing
 * there yet); degraded: some ok, some failing; failed: none ok and some failing; torn_down: an app
 * not desired with nothing left.
 */
export const aggregateState = (conditions: ReadonlyArray<ServiceCondition>, desired: boolean): AppState => {
  let ok = 0
  let failing = 0
  let missing = 0
  for (const c of conditions) {
    if (c === "ok") ok++
    else if (c === "failing") failing++
    else if (c === "missing") missing++
  }
  if (conditions.length === 0 || missing === conditions.length) return desired ? "pending" : "torn_down"
  if (ok === conditions.length) return "running"
  if (failing === 0) return "pending"
  return ok > 0 ? "degraded" : "failed"
}
