/**
 * A name listed twice: in a service's environment or labels the last entry wins with a warning at
 * its line, as Compose's unicity rule does (and the warning never shows a value); a key written twice
 * in a mapping stays a YAML error, and moor's own lists (x-moor) still refuse duplicates.
 */
import { describe, expect, it } from "vitest"
import { errors, FILE, service, warnings } from "../support/compose-parse.ts"

describe("duplicates Compose resolves", () => {
  it("an environment variable listed twice takes the last value, with a warning that names the lines, not the values", () => {
    const text =
      "services:\n  s:\n    image: x\n    environment:\n      - MODE=one\n      - TOKEN=s3cret\n      - MODE=two\n      - TOKEN=0ther\n"
    expect(service(text).environment).toEqual({ MODE: "two", TOKEN: "0ther" })
    const w = warnings(text)
    expect(w).toEqual([
      `${FILE}:7:9: services.s.environment[2]: MODE is given twice (also on line 5): the last one is used`,
      `${FILE}:8:9: services.s.environment[3]: TOKEN is given twice (also on line 6): the last one is used`
    ])
    expect(w.join("\n")).not.toMatch(/s3cret|0ther/)
  })

  it("the last entry wins whole: a later name without a value takes it from moor's environment, or drops it", () => {
    const text = "services:\n  s:\n    image: x\n    environment: [A=1, A, B=2, B]\n"
    expect(service(text, { env: { A: "from-env" } }).environment).toEqual({ A: "from-env" })
  })

  it("a label listed twice takes the last value, with a warning", () => {
    const text = "services:\n  s:\n    image: x\n    labels: [team=a, team=b]\n"
    expect(service(text).labels).toEqual({ team: "b" })
    expect(warnings(text)).toEqual([
      `${FILE}:4:22: services.s.labels[1]: team is given twice (also on line 4): the last one is used`
    ])
  })
})

describe("duplicates that stay errors", () => {
  it("a key written twice in a mapping is a YAML error", () => {
    expect(errors("services:\n  s:\n    image: x\n    environment:\n      A: 1\n      A: 2\n")).toEqual([
      expect.stringContaining(`${FILE}:6:7`)
    ])
  })

  it("moor's own lists refuse a name given twice", () => {
    expect(
      errors("services:\n  s: { image: x }\nx-moor:\n  placement:\n    labels: [role=web, role=db]\n", {
        hosts: [{ name: "local", labels: { role: "web" } }]
      })
    ).toEqual([`${FILE}:5:24: x-moor.placement.labels[1]: role is given twice: keep one`])
  })
})
