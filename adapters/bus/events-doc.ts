/**
 * The field tables of docs/events.md, generated from the Schemas of ./events.ts. In the document,
 * each table sits between `<!-- fields: <type> -->` and `<!-- /fields -->`.
 *
 *   node adapters/bus/events-doc.ts           exits 1 when docs/events.md is out of date
 *   node adapters/bus/events-doc.ts --write   rewrites the tables in docs/events.md
 */
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { SchemaAST } from "effect"
import { MoorEvent, type MoorEventType } from "./events.ts"

export interface FieldRow {
  readonly field: string
  readonly type: string
  readonly required: boolean
  readonly description: string
}

const typeName = (ast: SchemaAST.AST): string => {
  const title = SchemaAST.resolveTitle(ast)
  if (title !== undefined) return title
  switch (ast._tag) {
    case "Literal":
      return JSON.stringify(ast.literal)
    case "Null":
      return "null"
    case "Union":
      return ast.types.map(typeName).join(" \\| ")
    case "Objects":
      return "object"
    default:
      return ast._tag.toLowerCase()
  }
}

/** The object inside a field (`summary`, `lastPass`), when there is one. */
const objectOf = (ast: SchemaAST.AST): SchemaAST.Objects | undefined =>
  SchemaAST.isObjects(ast)
    ? ast
    : SchemaAST.isUnion(ast)
      ? ast.types.map(objectOf).find((o) => o !== undefined)
      : undefined

const rowsOf = (objects: SchemaAST.Objects, prefix: string): ReadonlyArray<FieldRow> =>
  objects.propertySignatures.flatMap((property) => {
    const field = `${prefix}${String(property.name)}`
    const row: FieldRow = {
      field,
      type: typeName(property.type),
      required: property.type.context?.isOptional !== true,
      description: SchemaAST.resolveDescription(property.type) ?? (field === "type" ? "The event type." : "")
    }
    const inner = objectOf(property.type)
    return inner === undefined ? [row] : [row, ...rowsOf(inner, `${field}.`)]
  })

/** The fields of one event type, nested objects flattened as `summary.actions`. */
export const fieldRows = (type: MoorEventType): ReadonlyArray<FieldRow> => {
  const member = MoorEvent.members.find((m) => m.fields.type.literal === type)
  if (member === undefined) throw new Error(`no event type ${type}`)
  return rowsOf(member.ast, "")
}

/** A Markdown table laid out as Biome formats it: every column padded to its widest cell. */
const markdownTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((cell, i) => Math.max(3, cell.length, ...rows.map((row) => row[i]?.length ?? 0)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

export const fieldTable = (type: MoorEventType): string =>
  markdownTable(
    ["field", "type", "required", "meaning"],
    fieldRows(type).map((row) => [`\`${row.field}\``, row.type, row.required ? "yes" : "no", row.description])
  )

const region = /<!-- fields: ([a-z.]+) -->\n[\s\S]*?<!-- \/fields -->/g

/** The document with every field table regenerated. */
export const withFieldTables = (doc: string): string =>
  doc.replace(
    region,
    (_whole, type: string) => `<!-- fields: ${type} -->\n${fieldTable(type as MoorEventType)}\n<!-- /fields -->`
  )

/** The event types whose field table the document holds. */
export const documentedTables = (doc: string): ReadonlyArray<string> => [...doc.matchAll(region)].map((m) => m[1]!)

export const docPath = fileURLToPath(new URL("../../docs/events.md", import.meta.url))

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = readFileSync(docPath, "utf8")
  const next = withFieldTables(doc)
  if (process.argv.includes("--write")) {
    writeFileSync(docPath, next)
    console.log(`docs/events.md: ${documentedTables(next).length} field tables written`)
  } else if (next !== doc) {
    console.error("docs/events.md is out of date: run node adapters/bus/events-doc.ts --write")
    process.exitCode = 1
  }
}
