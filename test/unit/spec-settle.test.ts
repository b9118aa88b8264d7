/**
 * A spec being written is not taken half written: the loader waits for the files and directories
 * it read to stand still for a moment (`SETTLE_MS`), loads again when they changed meanwhile, and
 * refuses the ones that keep changing (a problem for their app, whose containers stay). Files that
 * stood still are read once, without waiting. On the in-memory file system, with a real writer.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { MemorySpecFs } from "../../adapters/spec/spec-fs-memory.ts"
import { formatProblem, SETTLE_LOADS, SpecLoader } from "../../adapters/spec/SpecLoader.ts"

const ROOT = "/spec"
const FILE = `${ROOT}/other/compose.yaml`
const WEB = "services:\n  web:\n    image: moor-fixture/app:1\n"
const WEB_AND_API = `${WEB}  api:\n    image: moor-fixture/app:1\n`
const SETTLE = 200

/** The spec; `fresh`: written just now (else long ago). */
const specFs = (fresh = false): MemorySpecFs => {
  const f = new MemorySpecFs()
  if (fresh) f.now = () => Date.now()
  f.file(`${ROOT}/moor.yaml`, "scope: s\n").file(`${ROOT}/keep/compose.yaml`, WEB).file(FILE, WEB)
  return f
}

const load = (f: MemorySpecFs) =>
  Effect.runPromise(
    SpecLoader.use((l) => l.load(ROOT)).pipe(Effect.provide(SpecLoader.layerWith({ fs: f, env: {}, settleMs: SETTLE })))
  )

const readsOf = (f: MemorySpecFs): (() => number) => {
  let reads = 0
  const previous = f.onRead
  f.onRead = (p) => {
    if (p === FILE) reads++
    previous?.(p)
  }
  return () => reads
}

const servicesOf = (spec: Awaited<ReturnType<typeof load>>, app: string): Array<string> =>
  Object.keys((spec.input.apps.find((a) => a.name === app)?.services ?? {}) as object).sort()

describe("a spec being written", () => {
  it("a file caught half written (a valid app with one service of two) is read again once it stands still", async () => {
    const f = specFs()
    f.now = () => Date.now()
    let first = true
    f.onRead = (p) => {
      if (p !== FILE || !first) return
      first = false
      // The writer has just written the first half, and writes the rest a moment later.
      f.file(FILE, WEB)
      setTimeout(() => f.file(FILE, WEB_AND_API), 0)
    }
    const reads = readsOf(f)
    const spec = await load(f)
    expect(servicesOf(spec, "other")).toEqual(["api", "web"])
    expect(spec.problems).toEqual([])
    expect(reads()).toBeGreaterThan(1)
  })

  it("a file that keeps changing is refused: a problem for its app, unknown rather than absent", async () => {
    const f = specFs(true)
    let n = 0
    const writer = setInterval(() => f.file(FILE, n++ % 2 === 0 ? WEB_AND_API : WEB), 10)
    try {
      const spec = await load(f)
      expect(servicesOf(spec, "keep")).toEqual(["web"])
      expect(spec.input.apps.map((a) => a.name)).toEqual(["keep"])
      const why = `${FILE}: it changed while moor read it, ${SETTLE_LOADS} times in a row: moor leaves it alone until it stays the same; if something rewrites it, let it finish`
      expect(spec.invalid).toEqual([{ name: "other", message: why }])
      expect(spec.unreadable.map(formatProblem)).toEqual([why])
    } finally {
      clearInterval(writer)
    }
  })

  it("files that stood still are read once, without waiting", async () => {
    const f = specFs()
    const reads = readsOf(f)
    const spec = await load(f)
    expect(servicesOf(spec, "other")).toEqual(["web"])
    expect(reads()).toBe(1)
  })
})
