/**
 * The Compose corpus (test/fixtures/compose-corpus/<category>/<app>): realistic Compose files as people
 * write them. Every app loads with the real loader and plans on a host that holds nothing but what its
 * files say exists outside them (external networks and volumes), with no problem and no skip; on a host
 * that already holds its images (as the engine lists them once pulled) it pulls nothing; and where a file
 * says what a composition feature must produce (an override file, a profile, extends, include), the
 * loaded app shows it.
 *
 * What does not work yet is listed in KNOWN_FAILING with its reasons. A listed app must still fail, for
 * exactly the listed reasons: when a feature lands, the test names the apps and reasons to take off the
 * list. Adding a folder to the corpus adds a case.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { formatProblem, type SpecProblem } from "../../adapters/spec/SpecLoader.ts"
import { toDesiredState } from "../../adapters/spec/desired.ts"
import { COMPOSE_FILES, loadSpec } from "../../adapters/spec/load.ts"
import { nodeSpecFs } from "../../adapters/spec/spec-fs.ts"
import type { App, DesiredState, Service } from "../../core/model/desired.ts"
import type { KnownHost } from "../../core/model/observed.ts"
import { plan } from "../../core/plan/plan.ts"
import { observedOf, policy } from "../support/core-fixtures.ts"
import { emptyHost } from "../support/reference-engine.ts"

const CORPUS = "test/fixtures/compose-corpus"
/** The environment moor runs in: a deploy user's home (for `~` in bind mounts), nothing else. */
const ENV = { HOME: "/home/deploy" }

/**
 * Apps that do not load and plan cleanly today, each with every reason it fails for. A reason is the
 * Compose key moor refuses (as its message quotes it), or a tag given by `reasonOf`, `reasonOfSkip` or
 * `findingsOf` below.
 */
const KNOWN_FAILING: Readonly<Record<string, ReadonlyArray<string>>> = {
  "composition/secrets-configs": ["configs/secrets (not applied)"],
  "samples/django": ["build (not applied)"],
  "samples/fastapi": ["build (not applied)"],
  "samples/flask-redis": ["build (not applied)"],
  "samples/nginx-flask-mysql": ["build (not applied)", "configs/secrets (not applied)"],
  "samples/nginx-golang-postgres": ["build (not applied)", "configs/secrets (not applied)"],
  "samples/nginx-nodejs-redis": ["build (not applied)"],
  "samples/react-express-mongodb": ["build (not applied)"],
  "samples/react-rust-postgres": ["build (not applied)"],
  "samples/spring-postgres": ["build (not applied)", "configs/secrets (not applied)"],
  "samples/traefik-golang": ["build (not applied)"],
  "samples/voting-app": ["build (not applied)"],
  "samples/vuejs": ["build (not applied)"],
  "selfhost/mariadb": ["configs/secrets (not applied)"],
  "selfhost/plausible": ["configs/secrets (not applied)"]
}

/** What a composition feature must produce, checked on the loaded app. */
interface Expectation {
  /** The reason reported when it does not hold (the feature it needs). */
  readonly reason: string
  readonly what: string
  readonly holds: (app: App) => boolean
}

const svc = (app: App, name: string): Service | undefined => app.services[name]
const servicesAre =
  (...names: Array<string>) =>
  (app: App) =>
    JSON.stringify(Object.keys(app.services).sort()) === JSON.stringify([...names].sort())
const envIs = (service: string, key: string, value: string | undefined) => (app: App) =>
  svc(app, service)?.environment?.[key] === value
const publishes =
  (service: string, ...ports: Array<number>) =>
  (app: App) =>
    JSON.stringify((svc(app, service)?.ports ?? []).map((p) => p.published)) === JSON.stringify(ports)

const EXPECTED: Readonly<Record<string, ReadonlyArray<Expectation>>> = {
  "composition/override": [
    {
      reason: "compose.override.yaml",
      what: "services api, mailpit and web (mailpit comes from compose.override.yaml)",
      holds: servicesAre("api", "mailpit", "web")
    },
    { reason: "compose.override.yaml", what: "web FEATURE_BETA=true", holds: envIs("web", "FEATURE_BETA", "true") },
    { reason: "compose.override.yaml", what: "api publishes 8090", holds: publishes("api", 8090) }
  ],
  "composition/override-reset": [
    { reason: "compose.override.yaml", what: "app publishes no port (ports: !reset [])", holds: publishes("app") },
    {
      reason: "compose.override.yaml",
      what: "app runs with --behind-proxy (command: !override)",
      holds: (app) => svc(app, "app")?.command?.includes("--behind-proxy") === true
    },
    { reason: "compose.override.yaml", what: "app has no SMTP_HOST", holds: envIs("app", "SMTP_HOST", undefined) }
  ],
  "composition/dev-prod": [
    {
      reason: "compose.override.yaml",
      what: "web runs helpdesk:dev",
      holds: (app) => svc(app, "web")?.image === "helpdesk:dev"
    },
    { reason: "profiles", what: "pgadmin (profile debug) is not run", holds: (app) => !("pgadmin" in app.services) }
  ],
  "composition/profiles": [
    {
      reason: "profiles",
      what: "services app, cache and metrics (COMPOSE_PROFILES=monitoring in .env)",
      holds: servicesAre("app", "cache", "metrics")
    }
  ],
  "composition/extends-same-file": [
    {
      reason: "extends",
      what: "worker-default runs the web's image with QUEUES and the web's health check, without its port",
      holds: (app) => {
        const w = svc(app, "worker-default")
        return (
          w?.image === "ghcr.io/example/ledger:2.8.1" &&
          w.environment?.QUEUES === "default,mailers" &&
          w.environment.PORT === "8080" &&
          w.healthcheck !== undefined &&
          (w.ports ?? []).length === 0
        )
      }
    }
  ],
  "composition/extends-other-file": [
    {
      reason: "extends",
      what: "api has the webapp's environment and env_file",
      holds: (app) =>
        envIs("api", "LOG_FORMAT", "json")(app) &&
        envIs("api", "SENTRY_DSN", "https://public@sentry.example.com/12")(app) &&
        envIs("api", "PORT", "8000")(app)
    }
  ],
  "composition/include-simple": [
    { reason: "include", what: "services app and wiki-db", holds: servicesAre("app", "wiki-db") }
  ],
  "composition/include-long": [
    {
      reason: "include",
      what: "services api, opensearch and otel-collector (publishing 4318)",
      holds: (app) => servicesAre("api", "opensearch", "otel-collector")(app) && publishes("otel-collector", 4318)(app)
    }
  ],
  "composition/anchors-merge": [
    {
      reason: "merge keys",
      what: "catalog keeps its own LOG_LEVEL over the merged one, and every app service has the merged health check",
      holds: (app) =>
        envIs("catalog", "LOG_LEVEL", "debug")(app) &&
        envIs("storefront", "LOG_LEVEL", "info")(app) &&
        ["storefront", "catalog", "cart"].every((s) => svc(app, s)?.healthcheck?.test?.[0] === "CMD-SHELL")
    }
  ],
  "composition/replicas": [
    {
      reason: "deploy.replicas",
      what: "consumer runs 3 replicas",
      holds: (app) => svc(app, "consumer")?.replicas === 3
    }
  ],
  "samples/voting-app": [
    { reason: "profiles", what: "seed (profile seed) is not run", holds: (app) => !("seed" in app.services) }
  ],
  "selfhost/mastodon": [
    { reason: "profiles", what: "es (profile search) is not run", holds: (app) => !("es" in app.services) }
  ]
}

/** Every `<category>/<app>` folder of the corpus that holds a Compose file, sorted. */
const corpusApps = (): Array<string> =>
  fs
    .readdirSync(CORPUS, { withFileTypes: true })
    .filter((c) => c.isDirectory())
    .flatMap((c) =>
      fs
        .readdirSync(path.join(CORPUS, c.name), { withFileTypes: true })
        .filter((a) => a.isDirectory())
        .filter((a) => COMPOSE_FILES.some((f) => fs.existsSync(path.join(CORPUS, c.name, a.name, f))))
        .map((a) => `${c.name}/${a.name}`)
    )
    .sort()

/** One reason an app does not load and plan cleanly, with the text that shows it. */
interface Finding {
  readonly reason: string
  readonly text: string
}

/** The reason a loader problem stands for: the refused key, or a tag for the other kinds of problem. */
const reasonOf = (p: SpecProblem): string => {
  const m = p.message
  const refused = /moor does not support "([^"]+)"/.exec(m)
  if (refused !== null) return refused[1] ?? m
  // A service whose image comes from build: or from the service it extends.
  if (/image is required \(moor runs images, it does not build them\)/.test(m)) return "service without image"
  const tag = /Unresolved tag: (!\w+)/.exec(m)
  if (tag !== null) return tag[1] ?? m
  const option = /volume option "([^"]+)" is not supported/.exec(m)
  if (option !== null) return `volume option ${option[1]}`
  // A service of an included file is unknown while include is refused.
  if (/service "[^"]+" is not defined in this file/.test(m)) return "include"
  if (/expected a number, got the string "\d+-\d+"/.test(m)) return "published port range (long syntax)"
  if (/host port \[::\]:\d+\/\w+ is already published by this service \(as 0\.0\.0\.0:/.test(m))
    return "0.0.0.0 and [::] taken as one address"
  return m
}

/** The reason a skip stands for: what it says is not applied yet, or its text. */
const reasonOfSkip = (text: string): string => {
  const blocked = /^depends on [^:]+: \S+ is not ready \((.*)\)$/s.exec(text)
  if (blocked !== null) return reasonOfSkip(blocked[1] ?? text)
  if (/building images is not applied yet/.test(text)) return "build (not applied)"
  if (/configs\/secrets are not applied yet/.test(text)) return "configs/secrets (not applied)"
  return `skip: ${text}`
}

/** An image reference as the engine lists it once pulled (docker.io/ and library/ dropped, :latest added). */
const asListed = (ref: string): string | undefined => {
  const hubless = ref.replace(/^(index\.)?docker\.io\//, "").replace(/^library\//, "")
  // Pinned by digest: listed by its digest (`name@sha256:...`), the tag left out.
  const at = hubless.indexOf("@")
  if (at !== -1) return `${hubless.slice(0, at).replace(/:[^/:]*$/, "")}${hubless.slice(at)}`
  return hubless.lastIndexOf(":") > hubless.lastIndexOf("/") ? hubless : `${hubless}:latest`
}

/** The host before the first apply: empty but for the external networks and volumes the files name. */
const hostFor = (desired: DesiredState, images: ReadonlyArray<string> = []): KnownHost => {
  const host = {
    ...emptyHost("local", []),
    images: images.map((ref, i) =>
      ref.includes("@") ? { id: `sha256:${i}`, tags: [], digests: [ref] } : { id: `sha256:${i}`, tags: [ref] }
    )
  }
  const apps = desired.apps
  const networks = apps.flatMap((a) =>
    Object.entries(a.networks ?? {}).flatMap(([key, n]) => (n.external === true ? [n.name ?? key] : []))
  )
  const volumes = apps.flatMap((a) =>
    Object.entries(a.volumes ?? {}).flatMap(([key, v]) => (v.external === true ? [v.name ?? key] : []))
  )
  return {
    ...host,
    networks: networks.map((name) => ({ name, id: `id-${name}`, labels: {} })),
    volumes: volumes.map((name) => ({ name, labels: {} }))
  }
}

/** Everything that keeps one corpus app from loading and planning cleanly; empty when it does. */
const findingsOf = (app: string): Array<Finding> => {
  const loaded = loadSpec(path.join(CORPUS, app), { fs: nodeSpecFs, env: ENV })
  if (Result.isFailure(loaded)) return [{ reason: "spec error", text: loaded.failure.message }]
  const spec = loaded.success
  const findings: Array<Finding> = spec.problems.map((p) => ({ reason: reasonOf(p), text: formatProblem(p) }))
  if (findings.length === 0)
    findings.push(...spec.invalid.map((a) => ({ reason: "invalid app", text: `${a.name}: ${a.message}` })))
  if (findings.length > 0) return findings
  const desired = toDesiredState(spec)
  if (Result.isFailure(desired)) return [{ reason: "decode", text: desired.failure.message }]
  const p = plan(desired.success, observedOf([hostFor(desired.success)]), policy())
  findings.push(
    ...p.actions.flatMap((a) => (a._tag === "skip" ? [{ reason: reasonOfSkip(a.reason), text: a.reason }] : []))
  )
  // With every image already there, nothing is pulled for being missing.
  const refs = desired.success.apps.flatMap((a) => Object.values(a.services).map((s) => s.image))
  const listed = [...new Set(refs.flatMap((r) => asListed(r) ?? []))]
  const again = plan(desired.success, observedOf([hostFor(desired.success, listed)]), policy())
  for (const a of again.actions) {
    if (a._tag === "pull-image" && /not present/.test(a.reason))
      findings.push({
        reason: "image present but pulled",
        text: `${a.image} (present as ${asListed(a.image)}): ${a.reason}`
      })
  }
  const decoded = desired.success.apps[0]
  for (const e of EXPECTED[app] ?? []) {
    if (decoded === undefined || !e.holds(decoded)) findings.push({ reason: e.reason, text: `expected ${e.what}` })
  }
  return findings
}

const apps = corpusApps()
const clean = apps.filter((a) => KNOWN_FAILING[a] === undefined)
const failing = apps.filter((a) => KNOWN_FAILING[a] !== undefined)
const show = (findings: ReadonlyArray<Finding>): string => findings.map((f) => `[${f.reason}] ${f.text}`).join("\n")

describe("the Compose corpus", () => {
  it("holds at least 60 apps, and every app named in KNOWN_FAILING and EXPECTED is one of them", () => {
    expect(apps.length).toBeGreaterThanOrEqual(60)
    expect([...Object.keys(KNOWN_FAILING), ...Object.keys(EXPECTED)].filter((a) => !apps.includes(a))).toEqual([])
  })

  it.each(clean)("%s loads, plans with no problem and no skip, and pulls no image already there", (app) => {
    expect(show(findingsOf(app))).toBe("")
  })

  it.each(failing)("%s still fails, for exactly its listed reasons (take what works off KNOWN_FAILING)", (app) => {
    const findings = findingsOf(app)
    const found = [...new Set(findings.map((f) => f.reason))].sort()
    const listed = [...(KNOWN_FAILING[app] ?? [])].sort()
    const now = findings.length === 0 ? "now loads and plans cleanly" : `now fails for:\n${show(findings)}`
    expect(found, `${app} ${now}`).toEqual(listed)
  })
})
