/**
 * Plans for people: one line per action, grouped by host, like a terraform plan, and a JSON form
 * that round-trips through the Plan schema. Same plan, same bytes.
 */
import type { Action, Plan, Step } from "./model/plan.ts"
import { passiveKinds } from "./model/plan.ts"
import { formatDuration } from "./plan/format.ts"

export const symbolOf = (kind: Action["_tag"]): string => {
  switch (kind) {
    case "ensure-network":
    case "ensure-volume":
    case "pull-image":
    case "create":
      return "+"
    case "start":
    case "run-hook":
      return ">"
    case "recreate":
      return "~"
    case "stop":
    case "remove":
    case "remove-network":
    case "remove-volume":
      return "-"
    case "wait-healthy":
    case "wait-completed":
      return "*"
    case "skip":
      return "!"
  }
}

const verbOf: Record<Action["_tag"], string> = {
  "ensure-network": "create network",
  "ensure-volume": "create volume",
  "pull-image": "pull",
  create: "create",
  start: "start",
  stop: "stop",
  remove: "remove",
  "remove-network": "remove network",
  "remove-volume": "remove volume",
  recreate: "recreate",
  "run-hook": "run hook",
  "wait-healthy": "wait healthy",
  "wait-completed": "wait completed",
  skip: "skip"
}

/** What the action acts on, for the line. */
export const targetOf = (a: Action): string => {
  switch (a._tag) {
    case "ensure-network":
      return a.network.name
    case "ensure-volume":
      return a.volume.name
    case "pull-image":
      return a.image
    case "create":
      return `${a.container.name} (${a.container.image})`
    case "recreate":
      return a.current.name
    case "start":
    case "stop":
    case "remove":
    case "wait-healthy":
    case "wait-completed":
      return a.container.name
    case "remove-network":
      return a.network
    case "remove-volume":
      return a.volume
    case "run-hook":
      return `${a.app}:${a.script} in ${a.container.name} for ${a.consumer.app}`
    case "skip":
      return a.service === undefined ? a.app : `${a.app}/${a.service}`
  }
}

const stepLine = (s: Step): string => {
  switch (s._tag) {
    case "create":
      return `+ create ${s.container.name}`
    case "start":
      return `> start ${s.container.name}`
    case "stop":
      return `- stop ${s.container.name}`
    case "remove":
      return `- remove ${s.container.name}`
    case "rename":
      return `~ rename ${s.container.name} -> ${s.to}`
    case "wait-healthy":
      return `* wait healthy ${s.container.name} (up to ${formatDuration(s.timeoutMs)})`
  }
}

export const actionLine = (a: Action): string => `${symbolOf(a._tag)} ${verbOf[a._tag]} ${targetOf(a)} (${a.reason})`

const envLines = (a: Action): ReadonlyArray<string> =>
  a._tag === "create" || a._tag === "recreate" ? a.container.env.map(([k, v]) => `      env ${k}=${v}`) : []

/**
 * The plan as text, one line per action (replacement steps indented), grouped by host. It shows
 * no environment value, unless `showValues` (a person at a terminal asked for them): then each
 * container to create lists its variables.
 */
/** ` (and 2 more problems)` when a reason holds several lines. */
const moreLines = (text: string): string => {
  const more = text.split("\n").length - 1
  return more === 0 ? "" : ` (and ${more} more problem${more === 1 ? "" : "s"})`
}

export const describe = (plan: Plan, options: { readonly showValues?: boolean } = {}): string => {
  const lines: Array<string> = []
  const hosts = [...new Set([...plan.hosts.map((h) => h.host), ...plan.actions.map((a) => a.host)])].sort()
  for (const host of hosts) {
    const summary = plan.hosts.find((h) => h.host === host)
    const actions = plan.actions.filter((a) => a.host === host)
    if (summary?.status === "unknown")
      lines.push(`host ${host}: unknown (${summary.reason ?? "no answer"}), left alone`)
    else lines.push(`host ${host}:${actions.length === 0 ? " no changes" : ""}`)
    for (const a of actions) {
      // A skip for several problems: one line each, under the skip.
      if (a._tag === "skip" && a.reason.includes("\n")) {
        const reasons = a.reason.split("\n")
        lines.push(`  ${symbolOf(a._tag)} ${verbOf[a._tag]} ${targetOf(a)} (${reasons.length} problems)`)
        for (const reason of reasons) lines.push(`      ${reason}`)
        continue
      }
      lines.push(`  ${actionLine(a)}`)
      if (options.showValues === true) lines.push(...envLines(a))
      if (a._tag === "recreate") {
        lines.push(`      strategy: ${a.strategy}`)
        for (const s of a.steps) lines.push(`      ${stepLine(s)}`)
        if (a.rollback.length > 0) lines.push(`      on failure: ${a.rollback.map(stepLine).join(", ")}`)
      }
    }
  }
  if (plan.apps.length > 0) {
    lines.push("", "apps:")
    const w = Math.max(...plan.apps.map((a) => `${a.host}/${a.app}`.length))
    for (const app of plan.apps) {
      const changes = app.changes === 0 ? "no changes" : `${app.changes} change${app.changes === 1 ? "" : "s"}`
      lines.push(
        `  ${`${app.host}/${app.app}`.padEnd(w)}  ${app.state.padEnd(9)}  ${app.skipped === undefined ? changes : `left alone: ${firstLine(app.skipped)}${moreLines(app.skipped)}`}`
      )
    }
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`)
  lines.push("", summaryLine(plan))
  return `${lines.join("\n")}\n`
}

const firstLine = (s: string): string => s.split("\n")[0] ?? ""

export interface PlanCounts {
  readonly add: number
  readonly change: number
  readonly remove: number
  readonly other: number
  readonly skip: number
}

export const countActions = (plan: Plan): PlanCounts => {
  let add = 0
  let change = 0
  let remove = 0
  let other = 0
  let skip = 0
  for (const a of plan.actions) {
    const s = symbolOf(a._tag)
    if (a._tag === "skip") skip++
    else if (a._tag === "create") add++
    else if (s === "~") change++
    else if (a._tag === "remove" || a._tag === "remove-network" || a._tag === "remove-volume") remove++
    else if (!passiveKinds.has(a._tag)) other++
  }
  return { add, change, remove, other, skip }
}

/** True when applying the plan would change an engine. */
export const hasChanges = (plan: Plan): boolean => plan.actions.some((a) => !passiveKinds.has(a._tag))

/** Something declared is not as declared: a change to make, or an app or service left alone (a skip). */
export const outOfSync = (plan: Plan): boolean => hasChanges(plan) || plan.actions.some((a) => a._tag === "skip")

export const summaryLine = (plan: Plan): string => {
  const c = countActions(plan)
  if (!hasChanges(plan)) return `No changes.${c.skip > 0 ? ` ${c.skip} skipped.` : ""}`
  return `Plan: ${c.add} to create, ${c.change} to replace, ${c.remove} to remove, ${c.other} other step${c.other === 1 ? "" : "s"}${c.skip > 0 ? `, ${c.skip} skipped` : ""}.`
}
