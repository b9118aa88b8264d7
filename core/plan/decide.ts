/**
 * Rule 1, for one service on one host: what to do with its container, given the spec hash, the
 * observation and the restart history. Pure decision; ./emit.ts turns it into actions.
 */
import {
  describeChanges,
  fieldDigests,
  type HashAlgorithms,
  type HashInput,
  parseFieldDigests
} from "../container-spec.ts"
import { Label } from "../names.ts"
import type { FailedRollout, ObservedContainer, RestartRecord } from "../model/observed.ts"
import type { Policy } from "../model/policy.ts"
import { formatDuration } from "./format.ts"

export type Decision =
  | { readonly do: "nothing" }
  | { readonly do: "create"; readonly reason: string }
  | { readonly do: "start"; readonly reason: string; readonly heal: boolean }
  | {
      readonly do: "recreate"
      readonly reason: string
      readonly changes: ReadonlyArray<string>
      readonly heal: boolean
      /** The container is not serving (stopped, wedged): no need to keep it up during the replacement. */
      readonly notServing: boolean
    }
  /** Nothing can be done now (being removed, backing off); dependents cannot rely on it. */
  | { readonly do: "wait"; readonly reason: string }
  /** The restart budget is spent: the app is reported failed and left alone. */
  | { readonly do: "exhausted"; readonly reason: string }

export interface DecideInput {
  readonly container: ObservedContainer | undefined
  readonly hashInput: HashInput
  /** The desired per-field digests (lazily computed; only needed to describe a change). */
  readonly fields: () => Record<string, string>
  readonly specHash: string
  readonly hashAlgorithms: HashAlgorithms
  /** The image id the desired tag points to on this host, when the image is present. */
  readonly desiredImageId: string | undefined
  readonly oneShot: boolean
  readonly restarts: ReadonlyArray<RestartRecord>
  /** This service's last failed replacement on this host, if any. */
  readonly failedRollout: FailedRollout | undefined
  readonly policy: Policy
  readonly now: number
  /** Collects notes for the plan's warnings. */
  readonly warn: (message: string) => void
}

const firstLine = (text: string): string => text.split("\n")[0] ?? ""

const shortId = (id: string): string => id.replace(/^sha256:/, "").slice(0, 12)

/** Why the running container differs from the spec, or undefined when it does not. */
const drift = (input: DecideInput, c: ObservedContainer): ReadonlyArray<string> | undefined => {
  const version = c.labels[Label.hashVersion]
  const label = c.labels[Label.hash]
  if (version === undefined || label === undefined) return ["no spec hash label"]
  const algorithm = input.hashAlgorithms.byVersion[version]
  if (algorithm === undefined) {
    input.warn(
      `container ${c.name} carries spec hash version ${version}, which this moor does not know; it is not compared`
    )
    return undefined
  }
  const expected = version === input.hashAlgorithms.current ? input.specHash : algorithm(input.hashInput)
  if (expected !== label) {
    return describeChanges(
      c.image,
      input.hashInput.config.image,
      parseFieldDigests(c.labels[Label.fields]),
      fieldDigests(input.hashInput)
    )
  }
  if (input.desiredImageId !== undefined && c.imageId !== "" && c.imageId !== input.desiredImageId) {
    return [`image ${input.hashInput.config.image} updated (${shortId(c.imageId)} -> ${shortId(input.desiredImageId)})`]
  }
  return undefined
}

/** Restarts moor made under the current spec within the window, and the back-off before the next. */
const budget = (input: DecideInput): { readonly exhausted?: string; readonly backoff?: string } => {
  const { policy, now } = input
  const recent = input.restarts.filter((r) => r.specHash === input.specHash && r.at > now - policy.restartWindowMs)
  const n = recent.length
  if (n === 0) return {}
  if (n >= policy.restartBudget) {
    const oldest = Math.min(...recent.map((r) => r.at))
    return {
      exhausted: `restart budget exhausted: ${n} restarts in ${formatDuration(policy.restartWindowMs)}; left alone for ${formatDuration(oldest + policy.restartWindowMs - now)} or until the spec changes`
    }
  }
  const last = Math.max(...recent.map((r) => r.at))
  const wait = Math.min(policy.restartBackoffMs * 2 ** (n - 1), policy.restartBackoffMaxMs)
  return last + wait > now
    ? { backoff: `backing off after ${n} restart${n === 1 ? "" : "s"}: next in ${formatDuration(last + wait - now)}` }
    : {}
}

const heal = (input: DecideInput, decision: Extract<Decision, { readonly heal: boolean }>): Decision => {
  const b = budget(input)
  if (b.exhausted !== undefined) return { do: "exhausted", reason: b.exhausted }
  if (b.backoff !== undefined) return { do: "wait", reason: `${decision.reason}; ${b.backoff}` }
  return decision
}

const exitText = (c: ObservedContainer): string => (c.exitCode === undefined ? c.state : `${c.state} (${c.exitCode})`)

export const decide = (input: DecideInput): Decision => {
  const c = input.container
  if (c === undefined) return { do: "create", reason: "missing" }
  if (c.state === "removing")
    return { do: "wait", reason: `container ${c.name} is being removed; it is created again on a later pass` }
  const changes = drift(input, c)
  const running = c.state === "running"
  if (changes !== undefined) {
    const failed = input.failedRollout
    if (failed !== undefined && failed.specHash === input.specHash && !input.policy.retryFailed) {
      return {
        do: "wait",
        reason: `the update (${changes.join(", ")}) failed ${formatDuration(input.now - failed.at)} ago and was rolled back: ${firstLine(failed.error)}; it is not tried again until the spec changes (moor apply --retry-failed tries it now)`
      }
    }
    return { do: "recreate", reason: changes.join(", "), changes, heal: false, notServing: !running }
  }
  switch (c.state) {
    case "running": {
      if (c.health !== "unhealthy") return { do: "nothing" }
      const since = c.unhealthySince ?? c.startedAt
      if (since !== undefined && input.now - since < input.policy.unhealthyGraceMs) return { do: "nothing" }
      const reason = `unhealthy${since === undefined ? "" : ` for ${formatDuration(input.now - since)}`}`
      return heal(input, { do: "recreate", reason, changes: [reason], heal: true, notServing: false })
    }
    case "exited": {
      if (input.oneShot && c.exitCode === 0) return { do: "nothing" }
      return heal(input, { do: "start", reason: exitText(c), heal: true })
    }
    case "dead":
    case "created":
    case "paused": {
      const reason = c.state === "created" ? "created but never started" : c.state
      return heal(input, {
        do: "recreate",
        reason: `wedged: ${reason}`,
        changes: [`wedged: ${reason}`],
        heal: true,
        notServing: true
      })
    }
    case "restarting": {
      if ((c.restartCount ?? 0) <= input.policy.restartingLimit) return { do: "nothing" }
      const reason = `wedged: restarting in a loop (${c.restartCount} restarts)`
      return heal(input, { do: "recreate", reason, changes: [reason], heal: true, notServing: true })
    }
  }
}
