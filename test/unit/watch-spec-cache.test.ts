/**
 * The watch loop's spec reload: the previous desired state (the same object, so the planner's
 * memo holds) while the files read are unchanged; a fresh one when any of them changes, appears
 * or goes; a spec that fails to load is reported, and picked up again once fixed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Option, Result } from "effect"
import { MemorySpecFs } from "../../adapters/spec/spec-fs-memory.ts"
import { nodeSpecFs, type SpecFs } from "../../adapters/spec/spec-fs.ts"
import type { DesiredState } from "../../core/model/desired.ts"
import { destructiveKinds } from "../../core/model/plan.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { plan } from "../../core/plan/plan.ts"
import type { GlobalFlags } from "../../runners/cli/context.ts"
import { makeSpecCache } from "../../runners/watch/spec-cache.ts"
import { app, deployed, desired, svc } from "../support/core-fixtures.ts"

const flags: GlobalFlags = {
  scope: Option.none(),
  dockerHost: Option.none(),
  repo: Option.some("memory"),
  json: false,
  quiet: false
}

const root = mkdtempSync(join(tmpdir(), "moor-watch-spec-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

let n = 0
const newSpec = (): string => {
  const dir = join(root, `spec${n++}`)
  mkdirSync(join(dir, "web"), { recursive: true })
  writeFileSync(join(dir, "moor.yaml"), "scope: wsc\n")
  writeFileSync(join(dir, "web", "compose.yaml"), compose("moor-fixture/app:1"))
  return dir
}
const compose = (image: string, extra = "") => `services:\n  site:\n    image: ${image}\n${extra}`

/** Counts the files the loader parses (reads of compose.yaml), through the cache's fs. */
const counting = (): { readonly fs: SpecFs; readonly parses: () => number } => {
  let parses = 0
  return {
    fs: {
      ...nodeSpecFs,
      readFile: (p) => {
        if (p.endsWith("compose.yaml")) parses++
        return nodeSpecFs.readFile(p)
      }
    },
    parses: () => parses
  }
}

const imageOf = (desired: { readonly apps: ReadonlyArray<{ readonly services: object }> }, app = 0) => {
  const services = desired.apps[app]?.services as Record<string, { readonly image?: string }> | undefined
  return services?.site?.image
}

describe("watch: spec reload", () => {
  it.effect("unchanged files give the very same desired state; a changed byte gives a new one", () =>
    Effect.gen(function* () {
      const dir = newSpec()
      const cache = makeSpecCache(dir, flags)
      const first = yield* cache.current
      assert.isTrue(first.changed)
      const again = yield* cache.current
      assert.isFalse(again.changed)
      assert.strictEqual(again.loaded, first.loaded)
      assert.strictEqual(again.loaded.desired, first.loaded.desired, "same object: the planner's memo holds")

      // Same size, one character different.
      writeFileSync(join(dir, "web", "compose.yaml"), compose("moor-fixture/app:2"))
      const edited = yield* cache.current
      assert.isTrue(edited.changed)
      assert.notStrictEqual(edited.loaded.desired, first.loaded.desired)
      assert.strictEqual(imageOf(edited.loaded.desired), "moor-fixture/app:2")
    })
  )

  it.effect("a file the loader looked for and did not find counts when it appears (.env, a new app)", () =>
    Effect.gen(function* () {
      const dir = newSpec()
      const cache = makeSpecCache(dir, flags)
      yield* cache.current
      writeFileSync(join(dir, "web", "compose.yaml"), compose("moor-fixture/app:${TAG}"))
      yield* cache.current
      writeFileSync(join(dir, "web", ".env"), "TAG=2\n")
      const withEnv = yield* cache.current
      assert.isTrue(withEnv.changed)
      assert.strictEqual(imageOf(withEnv.loaded.desired), "moor-fixture/app:2")

      mkdirSync(join(dir, "api"))
      writeFileSync(join(dir, "api", "compose.yaml"), compose("moor-fixture/app:1"))
      const withApp = yield* cache.current
      assert.isTrue(withApp.changed)
      assert.deepStrictEqual(
        withApp.loaded.desired.apps.map((a) => a.name),
        ["api", "web"]
      )
      assert.isFalse((yield* cache.current).changed)
    })
  )

  it.effect("quiet reloads parse nothing", () =>
    Effect.gen(function* () {
      const dir = newSpec()
      const fs = counting()
      const cache = makeSpecCache(dir, flags, { fs: fs.fs })
      yield* cache.current
      // The check reads the files to compare their digests; the loader reads each once more.
      const afterFirst = fs.parses()
      for (let i = 0; i < 5; i++) yield* cache.current
      assert.strictEqual(fs.parses() - afterFirst, 5, "one digest read per reload, no load")
    })
  )

  it.effect("a spec that does not load is reported with where and what, every time, until it is fixed", () =>
    Effect.gen(function* () {
      const dir = newSpec()
      const cache = makeSpecCache(dir, flags)
      yield* cache.current
      writeFileSync(join(dir, "moor.yaml"), "scope: [unclosed\n")
      const broken = yield* Effect.result(cache.current)
      assert.isTrue(Result.isFailure(broken))
      if (Result.isFailure(broken)) assert.match(broken.failure.message, /moor\.yaml:\d+/)
      const stillBroken = yield* Effect.result(cache.current)
      assert.isTrue(Result.isFailure(stillBroken), "still reported while unchanged")
      writeFileSync(join(dir, "moor.yaml"), "scope: wsc\n")
      const fixed = yield* cache.current
      assert.isTrue(fixed.changed)
      assert.strictEqual(fixed.loaded.desired.scope, "wsc")
    })
  )
})

describe("watch: a spec that cannot be read is not an app removal", () => {
  const ROOT = "/spec"
  const FILE = `${ROOT}/other/compose.yaml`
  const OTHER = "name: renamed\nservices:\n  site:\n    image: moor-fixture/app:1\n"
  const memory = () =>
    new MemorySpecFs()
      .file(`${ROOT}/moor.yaml`, "scope: wsc\n")
      .file(`${ROOT}/web/compose.yaml`, compose("moor-fixture/app:1"))
      .file(FILE, OTHER)
  // The engine runs both apps; `renamed` is the app in directory `other`.
  const observed = deployed(desired([app("web", { site: svc() }), app("renamed", { site: svc() })], { scope: "wsc" }), {
    images: ["moor-fixture/app:1"]
  })
  const destructive = (d: DesiredState) =>
    plan(d, observed, makePolicy()).actions.filter((a) => destructiveKinds.has(a._tag))

  it.effect("an app directory that becomes unreadable, or a file rewritten while read: reloaded, containers kept", () =>
    Effect.gen(function* () {
      const f = memory()
      const cache = makeSpecCache(ROOT, flags, { fs: f })
      const first = yield* cache.current
      assert.deepStrictEqual(first.loaded.desired.apps.map((a) => a.name).sort(), ["renamed", "web"])

      f.deny(`${ROOT}/other`)
      const denied = yield* cache.current
      assert.isTrue(denied.changed)
      assert.deepStrictEqual(
        denied.loaded.desired.invalid.map((a) => a.name),
        ["other"]
      )
      assert.match(denied.loaded.desired.unreadable[0] ?? "", /^\/spec\/other\/compose\.yaml: permission denied/)
      assert.deepStrictEqual(destructive(denied.loaded.desired), [])

      const g = memory()
      let n = 0
      g.onRead = (p) => {
        if (p === FILE) g.file(p, n++ % 2 === 0 ? "name: renamed\n" : OTHER)
      }
      const torn = yield* makeSpecCache(ROOT, flags, { fs: g }).current
      assert.match(
        torn.loaded.desired.unreadable[0] ?? "",
        /^\/spec\/other\/compose\.yaml: the file changed while it was read/
      )
      assert.deepStrictEqual(destructive(torn.loaded.desired), [])
    })
  )
})
