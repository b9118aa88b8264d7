/**
 * The job summary: the plan (or what apply did) as a Markdown table, one row per action (host,
 * app, action, target, reason; in apply mode the outcome too), then the apps' states. Same input,
 * same text.
 */
import { symbolOf, targetOf } from "../../core/describe.ts"
import type { Action, Plan } from "../../core/model/plan.ts"
import type { ActionResult } from "../execute/result.ts"
import type { Mode } from "./inputs.ts"

/** Past this many rows the table is cut (a job summary holds at most 1 MiB). */
export const MAX_ROWS = 300

export interface SummaryInput {
  readonly mode: Mode
  readonly scope: string
  /** What the pass set out to do (plan mode: the plan). */
  readonly plan: Plan
  /** The last observation: the apps' states. */
  readonly finalPlan: Plan
  /** apply mode: what was done, in order. */
  readonly results?: ReadonlyArray<ActionResult> | undefined
  /** One line under the title: what happened. */
  readonly headline: string
}

/** Table cell text: one line, no Markdown table or HTML syntax. */
export const cell = (text: string): string =>
  text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll("|", "\\|")
    .replace(/\r?\n/g, "<br>")

const row = (cells: ReadonlyArray<string>): string => `| ${cells.map(cell).join(" | ")} |`
const header = (names: ReadonlyArray<string>): Array<string> => [
  `| ${names.join(" | ")} |`,
  `| ${names.map(() => "---").join(" | ")} |`
]

const actionCells = (a: Action): Array<string> => [
  a.host,
  a.app,
  `${symbolOf(a._tag)} ${a._tag}`,
  targetOf(a),
  a.reason
]

const firstLine = (text: string): string => text.split("\n")[0] ?? ""

const outcomeCell = (r: ActionResult): string =>
  r.outcome === "done" ? "done" : `${r.outcome}${r.error === undefined ? "" : `: ${firstLine(r.error)}`}`

const capped = (rows: ReadonlyArray<string>, columns: number): Array<string> =>
  rows.length <= MAX_ROWS
    ? [...rows]
    : [...rows.slice(0, MAX_ROWS), `| … ${rows.length - MAX_ROWS} more not shown |${" |".repeat(columns - 1)}`]

const actionsTable = (input: SummaryInput): Array<string> => {
  if (input.mode === "apply" && input.results !== undefined && input.results.length > 0) {
    const rows = input.results.map((r) => row([...actionCells(r.action), outcomeCell(r)]))
    return [...header(["Host", "App", "Action", "Target", "Reason", "Outcome"]), ...capped(rows, 6)]
  }
  if (input.plan.actions.length === 0) return []
  const rows = input.plan.actions.map((a) => row(actionCells(a)))
  return [...header(["Host", "App", "Action", "Target", "Reason"]), ...capped(rows, 5)]
}

const hostsNote = (plan: Plan): Array<string> =>
  plan.hosts
    .filter((h) => h.status === "unknown")
    .map((h) => `> **host ${cell(h.host)} is unknown** (${cell(h.reason ?? "no answer")}): left alone`)

const appsTable = (plan: Plan): Array<string> => {
  if (plan.apps.length === 0) return []
  const rows = plan.apps.map((a) =>
    row([
      a.host,
      a.app,
      a.state,
      a.skipped === undefined
        ? a.changes === 0
          ? "no changes"
          : `${a.changes} change${a.changes === 1 ? "" : "s"}`
        : `left alone: ${firstLine(a.skipped)}`
    ])
  )
  return ["#### Apps", "", ...header(["Host", "App", "State", "Changes"]), ...capped(rows, 4)]
}

/** The summary as Markdown. */
export const summaryMarkdown = (input: SummaryInput): string => {
  const blocks: Array<ReadonlyArray<string>> = [
    [`### moor ${input.mode}: ${cell(input.scope)}`, "", cell(input.headline)],
    hostsNote(input.finalPlan),
    actionsTable(input),
    appsTable(input.finalPlan),
    input.finalPlan.warnings.map((w) => `> warning: ${cell(w)}`)
  ]
  return `${blocks
    .filter((b) => b.length > 0)
    .map((b) => b.join("\n"))
    .join("\n\n")}\n`
}
