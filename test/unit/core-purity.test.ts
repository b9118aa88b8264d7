/** core/ is plain data in, plain data out: it imports only effect and itself, and reads no clock. */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"

const root = new URL("../../core/", import.meta.url).pathname
const files = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : []
  })
const imports = (text: string) =>
  [...text.matchAll(/(?:import|export)\s[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map(
    (m) => m[1] ?? m[2]!
  )

describe("core purity", () => {
  const all = files(root)
  it("finds the core's files", () => expect(all.length).toBeGreaterThan(10))
  it.each(all.map((f) => [relative(root, f), f]))("%s imports only effect and core files", (_name, file) => {
    for (const spec of imports(readFileSync(file, "utf8"))) {
      const ok =
        spec === "effect" ||
        (spec.startsWith("effect/") &&
          !/^effect\/(http|cli|sql|process|socket|persistence|workers|cluster)/.test(spec)) ||
        (spec.startsWith(".") && join(file, "..", spec).startsWith(root))
      expect(ok, `${file} imports ${spec}`).toBe(true)
    }
  })
  it.each(all.map((f) => [relative(root, f), f]))("%s reads no clock, randomness or process state", (_name, file) => {
    const text = readFileSync(file, "utf8")
    expect(text).not.toMatch(
      /Date\.now\(|new Date\(\)|Math\.random\(|performance\.now\(|process\.|globalThis\.|\brequire\(/
    )
  })
})
