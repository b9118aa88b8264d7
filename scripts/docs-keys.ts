/**
 * `node scripts/docs-keys.ts`: rewrites the two key tables of docs/compose-support.md ("Top-level keys",
 * "Service keys") from adapters/spec/compose-keys.ts, the loader's own list (test/unit/spec-compose-support.test.ts
 * fails when they differ). Run `npm run format` after it.
 */
import * as fs from "node:fs"
import { type KeyDoc, SERVICE_KEYS, TOP_LEVEL_KEYS } from "../adapters/spec/compose-keys.ts"

const FILE = "docs/compose-support.md"

const table = (keys: ReadonlyArray<KeyDoc>): string =>
  [
    "| key | status | note |",
    "| --- | --- | --- |",
    ...keys.map((k) => `| \`${k.key}\` | ${k.support} | ${k.note} |`)
  ].join("\n")

/** The text with the table under `## heading` replaced. */
const withTable = (text: string, heading: string, keys: ReadonlyArray<KeyDoc>): string => {
  const start = text.indexOf("| ", text.indexOf(`## ${heading}\n`))
  let end = start
  for (const line of text.slice(start).split("\n")) {
    if (!line.startsWith("|")) break
    end += line.length + 1
  }
  return `${text.slice(0, start)}${table(keys)}\n${text.slice(end)}`
}

const doc = fs.readFileSync(FILE, "utf8")
fs.writeFileSync(FILE, withTable(withTable(doc, "Top-level keys", TOP_LEVEL_KEYS), "Service keys", SERVICE_KEYS))
