import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Result } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import {
  formatProblem,
  type LoadedSpec,
  SpecError,
  SpecLoader,
  toDesiredState
} from "../../adapters/spec/SpecLoader.ts"
import { loadSpec } from "../../adapters/spec/load.ts"
import { nodeSpecFs } from "../../adapters/spec/spec-fs.ts"

const FIXTURES = "test/fixtures/specs"
const fixture = (name: string) => path.join(FIXTURES, name)

const load = (given: string, env: Record<string, string> = {}): LoadedSpec => {
  const r = loadSpec(given, { fs: nodeSpecFs, env })
  if (Result.isFailure(r)) throw new Error(`expected the spec to load, got: ${r.failure.message}`)
  return r.success
}
const loadError = (given: string, env: Record<string, string> = {}): SpecError => {
  const r = loadSpec(given, { fs: nodeSpecFs, env })
  if (Result.isSuccess(r)) throw new Error("expected a SpecError")
  return r.failure
}
const apps = (spec: LoadedSpec) => spec.input.apps.map((a) => a.name)
/** The services of the first loaded app, as plain records. */
const servicesOf = (spec: LoadedSpec): Record<string, Record<string, unknown>> =>
  (spec.input.apps[0]?.services ?? {}) as Record<string, Record<string, unknown>>
const invalid = (spec: LoadedSpec, name: string) => spec.invalid.find((a) => a.name === name)

const temps: Array<string> = []
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})
/** A temporary spec root (its base name becomes the default scope). */
const tempSpec = (files: Record<string, string | Uint8Array>, name = "tmp-spec"): string => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "moor-spec-"))
  temps.push(base)
  const root = path.join(base, name)
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, content)
  }
  fs.mkdirSync(root, { recursive: true })
  return root
}

describe("SpecLoader: a spec root with one directory per app", () => {
  const spec = load(fixture("multi"))

  it("loads the good apps while a bad app becomes invalid with every problem at its line", () => {
    expect(apps(spec)).toEqual(["good", "storefront", "twofiles"])
    expect(invalid(spec, "broken")).toEqual({
      name: "broken",
      hosts: ["web-2"],
      message: [
        `${FIXTURES}/multi/broken/compose.yaml:7:5: services.app.provider: moor does not support "provider": run by a Compose plugin, not by the engine: run it as a service with an image (see docs/compose-support.md)`,
        `${FIXTURES}/multi/broken/compose.yaml:8:12: services.app.ports: expected a list of ports, got number 8080`
      ].join("\n")
    })
    expect(spec.problems.filter((p) => p.file.includes("broken")).map((p) => [p.line, p.column, p.path])).toEqual([
      [7, 5, "services.app.provider"],
      [8, 12, "services.app.ports"]
    ])
  })

  it("takes compose.yaml when a directory also holds docker-compose.yml, with a warning, as Compose does", () => {
    expect(invalid(spec, "twofiles")).toBeUndefined()
    expect(spec.warnings.map(formatProblem)).toContain(
      `${FIXTURES}/multi/twofiles: found several Compose files (compose.yaml, docker-compose.yml): using compose.yaml, as Compose does; remove the others`
    )
  })

  it("names an app by its file's name: and places it by host labels", () => {
    const storefront = spec.input.apps.find((a) => a.name === "storefront")
    expect(storefront?.hosts).toEqual(["web-1", "web-2"])
    expect(storefront?.source).toEqual({ file: `${FIXTURES}/multi/renamed-dir/docker-compose.yml`, line: 1 })
    expect(spec.files.map((f) => [f.name, path.basename(f.dir), f.file])).toEqual([
      ["broken", "broken", `${FIXTURES}/multi/broken/compose.yaml`],
      ["good", "good", `${FIXTURES}/multi/good/compose.yaml`],
      ["storefront", "renamed-dir", `${FIXTURES}/multi/renamed-dir/docker-compose.yml`],
      ["twofiles", "twofiles", `${FIXTURES}/multi/twofiles/compose.yaml`]
    ])
  })

  it("skips hidden directories and directories without a Compose file", () => {
    expect(spec.files.map((f) => f.name)).not.toContain("notes")
    expect(spec.files.map((f) => f.name)).not.toContain(".hidden")
  })

  it("reads scope, hosts with labels, and the engines' connection data from moor.yaml", () => {
    expect(spec.scope).toBe("multi-test")
    expect(spec.hosts).toEqual([
      { name: "web-1", labels: { role: "web" } },
      { name: "web-2", labels: { role: "web", zone: "b" } },
      { name: "db-1", labels: { role: "db" } }
    ])
    const certs = path.resolve(FIXTURES, "multi/certs/b")
    expect(spec.engines).toEqual([
      { name: "web-1", endpoint: "unix:///run/engine-a.sock" },
      {
        name: "web-2",
        endpoint: "tcp://10.1.2.3:2376",
        tls: { ca: path.join(certs, "ca.pem"), cert: path.join(certs, "cert.pem"), key: path.join(certs, "key.pem") }
      },
      { name: "db-1", endpoint: "ssh://deploy@db1.example" }
    ])
  })

  it("decodes into the core's desired state with the invalid apps as skips", () => {
    const desired = toDesiredState(spec)
    if (Result.isFailure(desired)) throw new Error(desired.failure.message)
    expect(desired.success.scope).toBe("multi-test")
    expect(desired.success.apps.map((a) => [a.name, a.hosts])).toEqual([
      ["good", ["db-1"]],
      ["storefront", ["web-1", "web-2"]],
      ["twofiles", undefined]
    ])
    expect(desired.success.invalid.map((a) => a.name)).toEqual(["broken"])
    expect(desired.success.apps[0]?.source).toEqual({ file: `${FIXTURES}/multi/good/compose.yaml` })
  })
})

describe("SpecLoader: other shapes of spec", () => {
  it("loads a single Compose file as a one-app spec", () => {
    const spec = load(fixture("single/compose.yaml"))
    expect(apps(spec)).toEqual(["solo"])
    expect(spec.scope).toBe("single")
    expect(spec.hosts).toEqual([{ name: "local" }])
  })

  it("defaults to one host local on DOCKER_HOST, with TLS from DOCKER_CERT_PATH", () => {
    const spec = load(fixture("single"), {
      DOCKER_HOST: "tcp://127.0.0.1:2376",
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: "/certs"
    })
    expect(spec.engines).toEqual([
      {
        name: "local",
        endpoint: "tcp://127.0.0.1:2376",
        tls: { ca: "/certs/ca.pem", cert: "/certs/cert.pem", key: "/certs/key.pem" }
      }
    ])
    expect(load(fixture("single")).engines).toEqual([{ name: "local" }])
  })

  it("accepts the hosts in a separate hosts.yaml", () => {
    const spec = load(fixture("hosts-file"))
    expect(spec.hosts).toEqual([{ name: "left", labels: { side: "left" } }, { name: "right" }])
    expect(spec.engines).toEqual([{ name: "left" }, { name: "right", endpoint: "unix:///run/right.sock" }])
    expect(spec.input.apps[0]?.hosts).toEqual(["left"])
  })

  it("derives the scope from the root's name, lowercased and cut to a valid name", () => {
    const root = tempSpec({ "app/compose.yaml": "services: { s: { image: x } }" }, "__My Shop!")
    expect(load(root).scope).toBe("my-shop-")
  })
})

describe("SpecLoader: hooks live in the provider's directory", () => {
  const spec = load(fixture("hooks"))
  const hookError = (app: string) => invalid(spec, app)?.message

  it("loads the provider's script text into onStart.content", () => {
    const ok = spec.input.apps.find((a) => a.name === "ok")
    expect(ok?.requires).toEqual([
      {
        app: "db",
        onStart: {
          script: "hooks/add-user.sh",
          content: fs.readFileSync(fixture("hooks/db/hooks/add-user.sh"), "utf8")
        }
      }
    ])
    const nested = spec.input.apps.find((a) => a.name === "nested-ok")
    expect(nested?.requires).toEqual([
      {
        app: "db",
        onStart: expect.objectContaining({ script: "hooks/add-user.sh", service: "store", timeoutMs: 30_000 })
      }
    ])
  })

  it("refuses a path leaving the provider's directory, naming the consumer's file and line", () => {
    expect(hookError("escape")).toBe(
      `${FIXTURES}/hooks/escape/compose.yaml:4:17: x-moor.requires[0].on_start: the hook path "../escape/compose.yaml" leaves the provider's directory ${FIXTURES}/hooks/db: keep the script inside it`
    )
  })

  it("refuses an absolute path", () => {
    expect(hookError("absolute")).toBe(
      `${FIXTURES}/hooks/absolute/compose.yaml:4:17: x-moor.requires[0].on_start: the hook path "/etc/passwd" is absolute: write it relative to the provider's directory ${FIXTURES}/hooks/db`
    )
  })

  it("refuses a script that does not exist and a provider that is not in the spec", () => {
    expect(hookError("missing")).toBe(
      [
        `${FIXTURES}/hooks/missing/compose.yaml:4:17: x-moor.requires[0].on_start: the hook script "hooks/nope.sh" does not exist in ${FIXTURES}/hooks/db: add it there, or correct the path (relative to that directory)`,
        `${FIXTURES}/hooks/missing/compose.yaml:5:12: x-moor.requires[1].app: app "ghost" is not in the spec (apps: absolute, db, escape, missing, nested-ok, ok): correct the name, or add the app`
      ].join("\n")
    )
  })

  it("refuses a symlink resolving outside the provider's directory, and accepts one inside it", () => {
    const root = tempSpec({
      "db/compose.yaml": "services: { store: { image: x } }",
      "db/hooks/real.sh": "echo real",
      "secret.txt": "not for hooks",
      "api/compose.yaml": "x-moor: { requires: [{ app: db, on_start: hooks/out.sh }] }\nservices: { s: { image: x } }",
      "web/compose.yaml": "x-moor: { requires: [{ app: db, on_start: hooks/in.sh }] }\nservices: { s: { image: x } }"
    })
    fs.symlinkSync(path.join(root, "secret.txt"), path.join(root, "db/hooks/out.sh"))
    fs.symlinkSync("real.sh", path.join(root, "db/hooks/in.sh"))
    const spec = load(root)
    expect(invalid(spec, "api")?.message).toBe(
      `${root}/api/compose.yaml:1:43: x-moor.requires[0].on_start: the hook path "hooks/out.sh" resolves (through a symlink) outside the provider's directory ${root}/db: keep the script inside it`
    )
    const web = spec.input.apps.find((a) => a.name === "web")
    expect(web?.requires).toEqual([{ app: "db", onStart: { script: "hooks/in.sh", content: "echo real" } }])
  })
})

describe("SpecLoader: files", () => {
  it("changes the env_file digest (and the environment) when the file changes", () => {
    const root = tempSpec({
      "api/compose.yaml": "services:\n  s:\n    image: x\n    env_file: conf/app.env\n",
      "api/conf/app.env": "MODE=one\n"
    })
    const serviceOf = (spec: LoadedSpec) =>
      servicesOf(spec).s as { environment: unknown; configDigests: Record<string, string> } | undefined
    const before = serviceOf(load(root))
    fs.writeFileSync(path.join(root, "api/conf/app.env"), "MODE=two\n")
    const after = serviceOf(load(root))
    expect(before?.environment).toEqual({ MODE: "one" })
    expect(after?.environment).toEqual({ MODE: "two" })
    expect(Object.keys(after?.configDigests ?? {})).toEqual(["conf/app.env"])
    expect(after?.configDigests["conf/app.env"]).not.toBe(before?.configDigests["conf/app.env"])
  })

  it("uses the app's .env for interpolation, with the process environment first", () => {
    const root = tempSpec({
      "api/compose.yaml": 'services:\n  s:\n    image: "moor-fixture/app:${TAG}"\n    environment: { WHO: "${WHO}" }\n',
      "api/.env": "TAG=1\nWHO=dotenv\n"
    })
    const s = servicesOf(load(root, { WHO: "process" })).s
    expect(s).toEqual({ image: "moor-fixture/app:1", environment: { WHO: "process" } })
  })

  it("refuses a Compose file over 1 MiB and binary garbage, with a clear message", () => {
    const big = `services: { s: { image: x } }\n# ${"x".repeat(1024 * 1024)}\n`
    const root = tempSpec({
      "big/compose.yaml": big,
      "bin/compose.yaml": new Uint8Array([0x73, 0x65, 0x72, 0x00, 0xff, 0xfe, 0x01]),
      "latin/compose.yaml": new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]),
      "good/compose.yaml": "services: { s: { image: x } }"
    })
    const spec = load(root)
    expect(apps(spec)).toEqual(["good"])
    expect(invalid(spec, "big")?.message).toBe(
      `${root}/big/compose.yaml: the file is 1.0 MiB, over moor's limit of 1 MiB for spec files: make it smaller`
    )
    expect(invalid(spec, "bin")?.message).toBe(
      `${root}/bin/compose.yaml: this is not a text file (a NUL byte at offset 3); expected UTF-8 YAML text`
    )
    expect(invalid(spec, "latin")?.message).toBe(
      `${root}/latin/compose.yaml: this is not a text file (invalid UTF-8); expected UTF-8 text`
    )
  })

  it("refuses two apps with the same name", () => {
    const root = tempSpec({
      "a/compose.yaml": "name: shop\nservices: { s: { image: x } }",
      "b/compose.yaml": "\nname: shop\nservices: { s: { image: x } }"
    })
    const spec = load(root)
    // Neither is planned: the one first by directory name could silently replace the running app.
    expect(apps(spec)).toEqual([])
    const hint = "give each app its own name (name: in the file, or the directory's name)"
    expect(spec.invalid).toEqual([
      {
        name: "shop",
        message: [
          `${root}/a/compose.yaml:1: app name "shop" is also used by ${root}/b/compose.yaml: ${hint}`,
          `${root}/b/compose.yaml:2: app name "shop" is also used by ${root}/a/compose.yaml: ${hint}`
        ].join("\n")
      }
    ])
  })
})

describe("SpecLoader: nothing to load is a SpecError", () => {
  it("for a missing path", () => {
    expect(loadError("test/fixtures/specs/nope").message).toBe(
      "test/fixtures/specs/nope: no such file or directory: give the spec's directory (one directory per app) or a Compose file"
    )
  })
  it("for a directory without apps", () => {
    expect(loadError(tempSpec({ "README.md": "hi" })).message).toContain("no apps found")
  })
  it("for a broken moor.yaml, with every problem at its line and column", () => {
    const e = loadError(fixture("bad-moor"))
    expect(e._tag).toBe("SpecError")
    expect(e.message).toBe(
      [
        `${FIXTURES}/bad-moor/moor.yaml:1:8: scope: "Bad Scope" is not a valid scope: lowercase a-z, 0-9, '_', '.', '-', starting with a letter or digit`,
        `${FIXTURES}/bad-moor/moor.yaml:4:13: hosts[0].engine: "http://nope" is not an engine address: use unix:///path, tcp://host:port or ssh://user@host`
      ].join("\n")
    )
    expect(e.problems.map((p) => [p.line, p.column])).toEqual([
      [1, 8],
      [4, 13]
    ])
  })
  it("for a certificate file that does not exist", () => {
    const root = tempSpec({
      "moor.yaml":
        "hosts:\n  - name: b\n    engine: tcp://10.0.0.2:2376\n    tls: { ca: ca.pem, cert: cert.pem, key: key.pem }\n",
      "ca.pem": "x",
      "cert.pem": "x",
      "app/compose.yaml": "services: { s: { image: x } }"
    })
    expect(loadError(root).message).toBe(
      `${root}/moor.yaml:4:45: hosts[0].tls.key: host b: the certificate file ${root}/key.pem does not exist: put it there, or correct the path (relative to the spec root)`
    )
  })
})

describe("SpecLoader service", () => {
  it("loads through the layer with the environment given per call", async () => {
    const root = tempSpec({ "api/compose.yaml": 'services: { s: { image: "x:${TAG:?set TAG}" } }' })
    const program = (env?: Record<string, string>) =>
      Effect.gen(function* () {
        const loader = yield* SpecLoader
        return yield* loader.load(root, env === undefined ? {} : { env })
      })
    const spec = await Effect.runPromise(program({ TAG: "2" }).pipe(Effect.provide(SpecLoader.layer)))
    expect(servicesOf(spec).s?.image).toBe("x:2")
    const layerEnv = await Effect.runPromise(
      program().pipe(Effect.provide(SpecLoader.layerWith({ env: { TAG: "3" } })))
    )
    expect(servicesOf(layerEnv).s?.image).toBe("x:3")
    const without = await Effect.runPromise(program().pipe(Effect.provide(SpecLoader.layerWith({ env: {} }))))
    expect(without.input.apps).toEqual([])
    expect(without.problems.map(formatProblem)).toEqual([
      `${root}/api/compose.yaml:1:25: services.s.image: required variable TAG is missing a value: set TAG`
    ])
  })
  it("fails with SpecError when nothing can be loaded", async () => {
    const failure = await Effect.runPromise(
      SpecLoader.use((l) => l.load("test/fixtures/specs/nope")).pipe(Effect.provide(SpecLoader.layer), Effect.flip)
    )
    expect(failure).toBeInstanceOf(SpecError)
  })
})

describe("examples/shop", () => {
  it("loads without problems and decodes into three apps", () => {
    const spec = load("examples/shop")
    expect(spec.problems.map(formatProblem)).toEqual([])
    expect(spec.warnings.map(formatProblem)).toEqual([])
    expect(spec.scope).toBe("shop")
    const desired = toDesiredState(spec)
    if (Result.isFailure(desired)) throw new Error(desired.failure.message)
    expect(desired.success.invalid).toEqual([])
    const byName = Object.fromEntries(desired.success.apps.map((a) => [a.name, a]))
    expect(Object.keys(byName)).toEqual(["api", "db", "web"])
    expect(byName.api?.requires?.[0]?.onStart?.content).toContain("/data/users/")
    expect(byName.api?.services.server?.dependsOn).toEqual({ migrate: { condition: "service_completed_successfully" } })
    expect(byName.api?.services.migrate?.restart).toBe("no")
    expect(byName.db?.services.store?.mounts).toEqual([{ type: "volume", source: "data", target: "/data" }])
    expect(byName.api?.networks?.shop?.name).toBe("shop-net")
    expect(byName.web?.networks?.shop?.name).toBe("shop-net")
    for (const app of desired.success.apps) {
      for (const s of Object.values(app.services)) {
        expect(s.image).toMatch(/^moor-fixture\/(app:1|app:2|crashy:1)$/)
        for (const p of s.ports ?? []) expect(p.published).toBeGreaterThanOrEqual(18080)
      }
    }
  })
})
