import * as fs from "node:fs"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseCompose } from "../../adapters/spec/compose-app.ts"
import { type KeyDoc, SERVICE_KEYS, TOP_LEVEL_KEYS } from "../../adapters/spec/compose-keys.ts"

/** The rows of the table under `heading` in docs/compose-support.md: [key, status]. */
const tableRows = (heading: string): Array<[string, string]> => {
  const doc = fs.readFileSync("docs/compose-support.md", "utf8")
  const start = doc.indexOf(`## ${heading}\n`)
  expect(start, `section "${heading}" in docs/compose-support.md`).toBeGreaterThan(-1)
  const rows: Array<[string, string]> = []
  for (const line of doc.slice(start).split("\n").slice(1)) {
    if (line.startsWith("## ")) break
    const m = /^\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|/.exec(line)
    if (m !== null) rows.push([m[1] ?? "", m[2] ?? ""])
  }
  return rows
}
const asRows = (keys: ReadonlyArray<KeyDoc>) => keys.map((k): [string, string] => [k.key, k.support])

const problemsOf = (text: string): Array<string> =>
  parseCompose({
    text,
    file: "c.yaml",
    dir: "/app",
    dirName: "app",
    env: {},
    hosts: [{ name: "local" }],
    readFile: () => Result.fail("missing")
  }).problems.map((p) => p.message)

describe("docs/compose-support.md", () => {
  it("lists every top-level key with the status the loader applies", () => {
    expect(tableRows("Top-level keys")).toEqual(asRows(TOP_LEVEL_KEYS))
  })
  it("lists every service key with the status the loader applies", () => {
    expect(tableRows("Service keys")).toEqual(asRows(SERVICE_KEYS))
  })
})

describe("the loader follows the support table", () => {
  const serviceKeys = SERVICE_KEYS.filter((k) => k.key !== "x-*")
  it.each(serviceKeys.map((k) => [k.key, k.support] as const))("service key %s: %s", (key, support) => {
    const messages = problemsOf(`services:\n  s:\n    image: x\n    ${key}: null\n`)
    const refused = messages.some((m) => m.startsWith(`moor does not support "${key}"`))
    const unknown = messages.some((m) => m.startsWith("unknown key"))
    expect(unknown).toBe(false)
    expect(refused).toBe(support === "not supported")
  })
  it.each(TOP_LEVEL_KEYS.filter((k) => k.key !== "x-*").map((k) => [k.key, k.support] as const))(
    "top-level key %s: %s",
    (key, support) => {
      const messages = problemsOf(`services: { s: { image: x } }\n${key}: null\n`)
      expect(messages.some((m) => m.startsWith("unknown key"))).toBe(false)
      expect(messages.some((m) => m.startsWith(`moor does not support "${key}"`))).toBe(support === "not supported")
    }
  )
})
