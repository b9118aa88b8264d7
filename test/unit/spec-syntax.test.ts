import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseDotenv } from "../../adapters/spec/dotenv.ts"
import { interpolate } from "../../adapters/spec/interpolate.ts"
import { shellSplit } from "../../adapters/spec/shell-split.ts"
import { parseBytes, parseDuration } from "../../adapters/spec/units.ts"
import { parseYaml } from "../../adapters/spec/yaml-tree.ts"
import { parseShortPort } from "../../adapters/spec/compose-ports.ts"

const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`expected success, got ${JSON.stringify(r.failure)}`)
  return r.success
}
const err = <A, E>(r: Result.Result<A, E>): E => {
  if (Result.isSuccess(r)) throw new Error(`expected failure, got ${JSON.stringify(r.success)}`)
  return r.failure
}

describe("interpolate", () => {
  const lookup = (name: string) => ({ A: "a", E: "" })[name]
  it("expands nested defaults lazily: a required variable inside an unused default is not an error", () => {
    expect(ok(interpolate("${A:-${MISSING:?never}}", lookup)).value).toBe("a")
    expect(err(interpolate("${B:-${MISSING:?needed here}}", lookup))).toBe(
      "required variable MISSING is missing a value: needed here"
    )
  })
  it("lists variables used without a default that are not set", () => {
    expect(ok(interpolate("$X and ${Y} and ${Z:-z}", lookup))).toEqual({ value: " and  and z", unset: ["X", "Y"] })
  })
  it("refuses unterminated braces, bad names and bad operators", () => {
    expect(err(interpolate("${A", lookup))).toContain('unterminated "${"')
    expect(err(interpolate("${1A}", lookup))).toContain("invalid variable name")
    expect(err(interpolate("${A/x/y}", lookup))).toContain("expected ${A}, or one of :- - :? ? :+ +")
    expect(err(interpolate("cost: 5$", lookup))).toContain('write "$$" for a literal "$"')
  })
})

describe(".env syntax", () => {
  const parse = (text: string, env: Record<string, string> = {}) =>
    ok(parseDotenv(text, (n) => env[n])).map((e) => [e.key, e.value, e.line])
  it("reads plain, quoted, exported, commented and inherited entries", () => {
    const text = [
      "# comment",
      "",
      "PLAIN=  some value  # trailing comment",
      "export EXPORTED=1",
      "SINGLE='literal $A \\n'",
      'DOUBLE="line1\\nline2 ${A} \\$A"',
      'MULTI="first',
      'second"',
      "EMPTY=",
      "INHERITED",
      "UNSET",
      "REF=${PLAIN}-x"
    ].join("\n")
    expect(parse(text, { A: "a", INHERITED: "from-env" })).toEqual([
      ["PLAIN", "some value", 3],
      ["EXPORTED", "1", 4],
      ["SINGLE", "literal $A \\n", 5],
      ["DOUBLE", "line1\nline2 a $A", 6],
      ["MULTI", "first\nsecond", 7],
      ["EMPTY", "", 9],
      ["INHERITED", "from-env", 10],
      ["UNSET", undefined, 11],
      ["REF", "some value-x", 12]
    ])
  })
  it("reports the line of a malformed entry", () => {
    expect(err(parseDotenv("A=1\nnot valid\n", () => undefined))).toEqual({
      line: 2,
      message: 'expected KEY=value: no "=" after the first word of the line'
    })
    expect(err(parseDotenv('A=1\nB="open\n', () => undefined))).toEqual({
      line: 2,
      message: "unterminated double quote in the value of B"
    })
    expect(err(parseDotenv("A=1\n\nB=${X:?needed}\n", () => undefined))).toEqual({
      line: 3,
      message: "B: required variable X is missing a value: needed"
    })
  })
})

describe("shell split", () => {
  it.each([
    ["echo hello world", ["echo", "hello", "world"]],
    [`sh -c 'echo "$HOME"; exit 3'`, ["sh", "-c", 'echo "$HOME"; exit 3']],
    [`printf "%s\\n" "a \\"b\\""`, ["printf", "%s\\n", 'a "b"']],
    ["a\\ b  c", ["a b", "c"]],
    ["''", [""]],
    ["", []]
  ])("%s", (input, words) => {
    expect(ok(shellSplit(input))).toEqual(words)
  })
  it("refuses an unterminated quote", () => {
    expect(err(shellSplit("echo 'oops"))).toBe(`unterminated single quote in "echo 'oops"`)
  })
})

describe("durations and sizes", () => {
  it.each([
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1.5s", 1500],
    ["1h", 3_600_000],
    ["2m0.5s", 120_500],
    ["100us", 0],
    ["0", 0]
  ])("duration %s = %d ms", (text, ms) => {
    expect(ok(parseDuration(text))).toBe(ms)
  })
  it("refuses a duration without a unit or with an unknown one", () => {
    expect(err(parseDuration("30"))).toBe(`"30" has no unit: write a duration such as 30s or 30ms`)
    expect(err(parseDuration("3 days"))).toContain("is not a duration")
  })
  it.each([
    ["512m", 512 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["1.5GB", 1.5 * 1024 ** 3],
    ["64k", 65_536],
    ["100b", 100],
    ["2MiB", 2 * 1024 ** 2],
    ["1024", 1024]
  ])("size %s = %d bytes", (text, n) => {
    expect(ok(parseBytes(text))).toBe(n)
  })
  it("refuses a size that is not one", () => {
    expect(err(parseBytes("lots"))).toContain("is not a size")
  })
})

describe("short port syntax", () => {
  it("expands ranges pairwise and keeps host IPs", () => {
    expect(parseShortPort("127.0.0.1:18080-18081:80-81/udp")).toEqual([
      { target: 80, published: 18080, hostIp: "127.0.0.1", protocol: "udp" },
      { target: 81, published: 18081, hostIp: "127.0.0.1", protocol: "udp" }
    ])
    expect(parseShortPort("127.0.0.1::80")).toEqual([{ target: 80, hostIp: "127.0.0.1" }])
    expect(parseShortPort("80-81")).toEqual([{ target: 80 }, { target: 81 }])
    // One container port on a range of host ports: the engine takes a free one, as Compose has it.
    expect(parseShortPort("18080-18081:80")).toEqual([{ target: 80, published: 18080, publishedEnd: 18081 }])
    expect(parseShortPort("18080-18082:80-81")).toBe(
      `"18080-18082:80-81": the host and container ranges must have the same length`
    )
  })
})

describe("YAML tree", () => {
  it("keeps the line and column of keys and values", () => {
    const { root } = parseYaml("a:\n  b: [1, two]\n")
    expect(root).toMatchObject({
      kind: "map",
      entries: [
        {
          key: "a",
          keyPos: { line: 1, column: 1 },
          value: {
            kind: "map",
            entries: [{ key: "b", keyPos: { line: 2, column: 3 }, value: { kind: "seq", pos: { line: 2, column: 6 } } }]
          }
        }
      ]
    })
  })
  it("expands merge keys: keys written in the mapping win", () => {
    const { root, errors } = parseYaml("base: &b { x: 1, y: 2 }\nuse:\n  y: 3\n  <<: *b\n")
    expect(errors).toEqual([])
    const use = root?.kind === "map" ? root.entries[1]?.value : undefined
    expect(
      use?.kind === "map" ? use.entries.map((e) => [e.key, e.value.kind === "scalar" ? e.value.value : null]) : []
    ).toEqual([
      ["y", 3],
      ["x", 1]
    ])
  })
  it("stops an alias bomb instead of expanding it", () => {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for (let i = 1; i < 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(", ")}]`
      )
    const { root, errors } = parseYaml(lines.join("\n"))
    expect(root).toBeUndefined()
    expect(errors).toHaveLength(1)
    expect(errors[0]?.message).toContain("the document expands to more than 200000 values through its aliases")
  })
  it("reports an unknown tag and an undefined alias with their position", () => {
    expect(parseYaml("a: !custom x\n").errors.length).toBe(1)
    expect(parseYaml("a: *nope\n").errors[0]?.pos?.line).toBe(1)
  })
})
