/** Terminal output: colour only on a terminal and without NO_COLOR; action result lines. */
import { formatProblem, type SpecProblem } from "../../adapters/spec/problems.ts"
import { actionLine } from "../../core/describe.ts"
import { formatDuration } from "../../core/plan/format.ts"
import type { ActionResult } from "../execute/result.ts"

const useColor = (): boolean =>
  process.stdout.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== "dumb"

const paint = (code: number) => (text: string) => (useColor() ? `\u001b[${code}m${text}\u001b[0m` : text)
export const red = paint(31)
export const green = paint(32)
export const yellow = paint(33)
export const dim = paint(2)
export const bold = paint(1)

export const resultLine = (r: ActionResult): string => {
  const mark = r.outcome === "done" ? green("ok  ") : r.outcome === "failed" ? red("FAIL") : yellow("skip")
  const took = r.outcome === "done" || r.outcome === "failed" ? dim(` ${formatDuration(r.durationMs)}`) : ""
  const why =
    r.outcome === "done" ? "" : `\n        ${r.outcome === "failed" ? red(r.error ?? "") : dim(r.error ?? "")}`
  return `  ${mark} ${r.action.host}: ${actionLine(r.action)}${took}${why}`
}

export const print = (text: string): void => {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`)
}
export const printErr = (text: string): void => {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
}

/** One line on stderr per host that did not answer: nothing was changed there. */
export const reportUnknownHosts = (
  hosts: ReadonlyArray<{ readonly host: string; readonly status: string; readonly reason?: string }>
): void => {
  for (const h of hosts) {
    if (h.status === "unknown")
      printErr(`${red("error:")} host ${h.host} is unknown, nothing on it was changed: ${h.reason ?? "no answer"}`)
  }
}

/** The spec's problems and warnings, one line each on stderr. */
export const reportSpec = (spec: {
  readonly problems: ReadonlyArray<SpecProblem>
  readonly warnings: ReadonlyArray<SpecProblem>
}): void => {
  for (const p of spec.problems) printErr(`${yellow("problem:")} ${formatProblem(p)}`)
  for (const w of spec.warnings) printErr(`${yellow("warning:")} ${formatProblem(w)}`)
}
