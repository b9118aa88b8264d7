/**
 * `deploy` keys other than `resources`: `replicas`, `update_config` and `rollback_config` (how moor
 * replaces containers), `restart_policy` (the engine's policy and moor's restart budget), and the
 * Swarm-only keys, accepted with a note that says what moor does instead.
 */
import type { Rollout } from "../../core/model/desired.ts"
import { duration, int, map, number, type Reader, readKeys, sorted, text } from "./reader.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

/** What the deploy keys set on the service (merged into the service object by the caller). */
export interface DeployReads {
  replicas?: { readonly value: number; readonly node: YNode; readonly path: string }
  update?: Rollout
  rollback?: Rollout
  /** From `restart_policy.condition` (and `max_attempts`): wins over `restart`, as in Compose. */
  restart?: { readonly policy: "no" | "always" | "on-failure"; readonly retries?: number }
  restartBudget?: Record<string, number>
}

const ORDERS = ["start-first", "stop-first"] as const
const FAILURE_ACTIONS = ["rollback", "pause", "continue"] as const
const CONDITIONS: Readonly<Record<string, "no" | "always" | "on-failure">> = {
  none: "no",
  "on-failure": "on-failure",
  any: "always"
}

const oneOf = <A extends string>(r: Reader, node: YNode, path: string, values: ReadonlyArray<A>): A | undefined => {
  const v = text(r, node, path)
  if (v === undefined) return undefined
  const found = values.find((x) => x === v)
  if (found === undefined)
    r.problems.fail(node.pos, path, `"${v}" is not one of ${values.join(", ")}: use one of these`)
  return found
}

const rollout = (r: Reader, node: YNode, path: string, prefix: string): Rollout | undefined => {
  const m = map(r, node, path)
  if (m === undefined) return undefined
  const out: { -readonly [K in keyof Rollout]: Rollout[K] } = {}
  readKeys(r, m, path, {
    prefix,
    read: {
      order: (e, p) => {
        const v = oneOf(r, e.value, p, ORDERS)
        if (v !== undefined) out.order = v
      },
      parallelism: (e, p) => {
        const n = int(r, e.value, p)
        if (n !== undefined && n < 0) r.problems.fail(e.value.pos, p, "parallelism cannot be negative")
        else if (n !== undefined) out.parallelism = n
      },
      delay: (e, p) => {
        const v = duration(r, e.value, p)
        if (v !== undefined) out.delayMs = v
      },
      failure_action: (e, p) => {
        const v = oneOf(r, e.value, p, FAILURE_ACTIONS)
        if (v !== undefined) out.failureAction = v
      },
      monitor: (e, p) => {
        const v = duration(r, e.value, p)
        if (v !== undefined) out.monitorMs = v
      },
      max_failure_ratio: (e, p) => {
        const n = number(r, e.value, p)
        if (n !== undefined && (n < 0 || n > 1))
          r.problems.fail(e.value.pos, p, "max_failure_ratio is a fraction between 0 and 1")
        else if (n !== undefined && n > 0)
          r.problems.warn(
            e.keyPos,
            p,
            "moor stops a rolling update at the first replica that fails (or goes on with failure_action: continue); max_failure_ratio has no effect"
          )
      }
    }
  })
  return sorted(Object.entries(out)) as Rollout
}

/** Keys Swarm gives a meaning moor does not have on plain engines: accepted, with what moor does instead. */
const SWARM_NOTES: Readonly<Record<string, string>> = {
  placement:
    "deploy.placement is for Swarm nodes: moor places apps on hosts with x-moor.hosts or x-moor.placement at the top level of the file",
  endpoint_mode:
    "deploy.endpoint_mode is for Swarm's load balancer: on one engine, containers reach each other by service name",
  labels: "deploy.labels label a Swarm service, not its containers: use labels: to label the containers"
}

/** The `read` handlers of the deploy keys moor reads here; `resources` is read by the caller. */
export const deployReaders = (r: Reader, out: DeployReads): Record<string, (e: YEntry, p: string) => void> => {
  const note = (key: string) => (e: YEntry, p: string) => r.problems.warn(e.keyPos, p, SWARM_NOTES[key] ?? "")
  return {
    replicas: (e, p) => {
      const n = int(r, e.value, p)
      if (n !== undefined && n < 0) r.problems.fail(e.value.pos, p, "replicas cannot be negative")
      else if (n !== undefined) out.replicas = { value: n, node: e.value, path: p }
    },
    update_config: (e, p) => {
      const v = rollout(r, e.value, p, "deploy.update_config.")
      if (v !== undefined) out.update = v
    },
    rollback_config: (e, p) => {
      const v = rollout(r, e.value, p, "deploy.rollback_config.")
      if (v !== undefined) out.rollback = v
    },
    restart_policy: (e, p) => {
      const m = map(r, e.value, p)
      if (m === undefined) return
      let condition = "always" as "no" | "always" | "on-failure"
      const budget: Record<string, number> = {}
      readKeys(r, m, p, {
        prefix: "deploy.restart_policy.",
        read: {
          condition: (x, xp) => {
            const v = oneOf(r, x.value, xp, Object.keys(CONDITIONS))
            if (v !== undefined) condition = CONDITIONS[v] ?? "always"
          },
          max_attempts: (x, xp) => {
            const n = int(r, x.value, xp)
            if (n !== undefined && n < 0) r.problems.fail(x.value.pos, xp, "max_attempts cannot be negative")
            else if (n !== undefined) budget.maxAttempts = n
          },
          window: (x, xp) => {
            const v = duration(r, x.value, xp)
            if (v !== undefined) budget.windowMs = v
          },
          delay: (x, xp) => {
            const v = duration(r, x.value, xp)
            if (v !== undefined) budget.delayMs = v
          }
        }
      })
      const retries = budget.maxAttempts
      out.restart = {
        policy: condition,
        ...(condition === "on-failure" && retries !== undefined && retries > 0 ? { retries } : {})
      }
      if (Object.keys(budget).length > 0) out.restartBudget = sorted(Object.entries(budget))
    },
    mode: (e, p) => {
      const v = text(r, e.value, p)
      if (v === undefined || v === "replicated") return
      if (v === "global")
        r.problems.warn(
          e.value.pos,
          p,
          'deploy.mode "global" runs one container per Swarm node: moor runs one container on each host the app is placed on (x-moor.hosts)'
        )
      else
        r.problems.fail(
          e.value.pos,
          p,
          `deploy.mode "${v}" is Swarm's (jobs): use restart: "no" for a one-shot service, or replicated`
        )
    },
    placement: note("placement"),
    endpoint_mode: note("endpoint_mode"),
    labels: note("labels")
  }
}
