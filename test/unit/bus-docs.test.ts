/** docs/events.md says what the Schemas say: every event type, its fields, examples that decode. */
import { execFileSync } from "node:child_process"
import { createHmac } from "node:crypto"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { docPath, documentedTables, fieldRows, withFieldTables } from "../../adapters/bus/events-doc.ts"
import { eventTypes, MoorEvent } from "../../adapters/bus/events.ts"
import { topicOf } from "../../adapters/bus/topic.ts"

const doc = readFileSync(docPath, "utf8")

/** The text under `### \`<type>\`` up to the next heading of level 2 or 3. */
const section = (type: string): string => {
  const start = doc.indexOf(`### \`${type}\``)
  if (start === -1) return ""
  const rest = doc.slice(start + 4)
  const end = rest.search(/\n##+ /)
  return end === -1 ? rest : rest.slice(0, end)
}

describe("docs/events.md", () => {
  it("the union has the event types the bus promises", () => {
    expect(eventTypes).toEqual(["app.state", "run.lifecycle", "heartbeat"])
  })

  it.each(eventTypes)("documents %s: a section, its field table, every field", (type) => {
    const text = section(type)
    expect(text, `no "### \`${type}\`" section`).not.toBe("")
    expect(documentedTables(text)).toEqual([type])
    for (const row of fieldRows(type)) expect(text).toMatch(new RegExp(`\\| \`${row.field.replace(".", "\\.")}\` +\\|`))
  })

  it("its field tables are the ones the Schemas generate", () => {
    expect(withFieldTables(doc), "run: node adapters/bus/events-doc.ts --write").toBe(doc)
  })

  it.each(eventTypes)("the %s example decodes and is shown with its topic", (type) => {
    const text = section(type)
    const json = /```json\n([\s\S]*?)```/.exec(text)?.[1]
    expect(json, `no JSON example under ${type}`).toBeDefined()
    const example = Schema.decodeUnknownSync(MoorEvent)(JSON.parse(json!))
    expect(example.type).toBe(type)
    expect(text).toContain(`on \`${topicOf(example)}\``)
  })

  it("the shell recipe for the signature gives what moor sends", () => {
    const shell = /```sh\nprintf 'sha256=[^\n]*\n```/.exec(doc)?.[0].split("\n")[1]
    expect(shell).toBeDefined()
    const dir = mkdtempSync(join(tmpdir(), "moor-bus-docs-"))
    const body = '{"type":"heartbeat","scope":"prod","at":"2026-03-01T12:01:00.000Z","lastPass":null}'
    writeFileSync(join(dir, "body.json"), body)
    const out = execFileSync("bash", ["-c", shell!], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", MOOR_BUS_WEBHOOK_SECRET: "k3y" },
      encoding: "utf8"
    })
    expect(out.trim()).toBe(`sha256=${createHmac("sha256", "k3y").update(body).digest("hex")}`)
  })
})
