import { describe, expect, it } from "vitest"
import { canonicalJson, hash128 } from "../../core/hash.ts"

describe("hash", () => {
  it("canonical JSON does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: "x" } })).toBe(canonicalJson({ a: { c: "x", d: [1, 2] }, b: 1 }))
  })
  it("hash128 is stable and 32 hex digits", () => {
    expect(hash128("moor")).toMatch(/^[0-9a-f]{32}$/)
    expect(hash128("moor")).toBe(hash128("moor"))
    expect(hash128("moor")).not.toBe(hash128("moor "))
  })
})
