/**
 * Decoding `scenario.yaml`: the YAML, then the top level, then each step by the key that says its
 * kind, so that a mistake is reported once, with its file, line and field, in words.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { LineCounter, parseDocument } from "yaml"
import { ScenarioFile, type Step, type StepKind, stepSchemas } from "./scenario-format.ts"

type Doc = ReturnType<typeof parseDocument>

/** `file:line: field: message` for each issue; `at` is where the decoded value sits in the document. */
const explain = (
  file: string,
  doc: Doc,
  lines: LineCounter,
  at: ReadonlyArray<string | number>,
  issue: SchemaIssue.Issue
) =>
  SchemaIssue.makeFormatterStandardSchemaV1()(issue).issues.map((i) => {
    const path = [...at, ...(i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))] as Array<string | number>
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined
    const line = node?.range === undefined ? "" : `:${lines.linePos(node.range[0]).line}`
    const field = path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "")
    const message =
      i.message === "Expected no excess property"
        ? "unknown key (the format is in scenarios/README.md)"
        : i.message === "Missing key"
          ? "missing (required)"
          : i.message
    return `${file}${line}: ${field === "" ? "(top)" : field}: ${message}`
  })

const kinds = Object.keys(stepSchemas) as ReadonlyArray<StepKind>
const options = { errors: "all", onExcessProperty: "error" } as const

/** The scenario file, decoded; a failure is one `file:line: field: message` per problem. */
export const decodeScenarioFile = (
  file: string,
  text: string
): Result.Result<ScenarioFile & { readonly steps: ReadonlyArray<Step> }, string> => {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const hint = /flow/.test(e.message) ? ' (inside [ ] or { }, quote values holding ${P}: "${P}-web-1")' : ""
    return Result.fail(`${file}:${lines.linePos(e.pos[0]).line}: not valid YAML: ${e.message.split("\n")[0]}${hint}`)
  }
  const top = Schema.decodeUnknownResult(ScenarioFile)(doc.toJS(), options)
  if (Result.isFailure(top)) return Result.fail(explain(file, doc, lines, [], top.failure.issue).join("\n"))
  const problems: Array<string> = []
  const steps: Array<Step> = []
  for (const [i, raw] of top.success.steps.entries()) {
    const keys = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? Object.keys(raw) : []
    const found = kinds.filter((k) => keys.includes(k))
    if (found.length !== 1) {
      const node = doc.getIn(["steps", i], true) as { range?: [number, number, number] } | undefined
      const line = node?.range === undefined ? "" : `:${lines.linePos(node.range[0]).line}`
      problems.push(
        `${file}${line}: steps[${i}]: ${found.length === 0 ? `a step needs one of the keys ${kinds.join(", ")} (found: ${keys.join(", ") || "none"})` : `one step, one kind: ${found.join(" and ")} found together`}`
      )
      continue
    }
    const step = Schema.decodeUnknownResult(stepSchemas[found[0]!] as Schema.Codec<Step>)(raw, options)
    if (Result.isFailure(step)) problems.push(...explain(file, doc, lines, ["steps", i], step.failure.issue))
    else steps.push(step.success)
  }
  return problems.length > 0 ? Result.fail(problems.join("\n")) : Result.succeed({ ...top.success, steps })
}
