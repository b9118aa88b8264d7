/**
 * Helpers of the HTTP runner's unit tests: a spec written to a temporary directory, the web
 * handler over the in-memory engine, repo and bus, signed GitHub deliveries, captured logs.
 */
import { Effect, Layer, Logger, Redacted } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bus } from "../../adapters/bus/Bus.ts"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory, type MemoryImage, MemoryEngine, type MemoryEngineShape } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import type { RepoShape } from "../../adapters/repo/shape.ts"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { Git, type GitShape } from "../../runners/http/git.ts"
import { makeHandler, type PlatformContext } from "../../runners/http/handler.ts"
import { Heartbeat, type HeartbeatShape } from "../../runners/http/heartbeat.ts"
import { signBody } from "../../runners/http/auth.ts"
import { defaultPassSettings, MIB, type ServeSettings } from "../../runners/http/settings.ts"
import { settleTree } from "./settled.ts"

export const TOKEN = "test-token-0123456789abcdef"
export const SECRET = "test-webhook-secret-0123456789"
export const REPOSITORY = "Codertocat/Hello-World"

/** Images without a health check: containers are running at once. */
export const testImages: ReadonlyArray<MemoryImage> = [
  { ref: "moor-http/web:1", remote: true },
  { ref: "moor-http/api:1", remote: true },
  { ref: "ghcr.io/codertocat/hello-world:nightly", remote: true }
]

export type SpecApps = Readonly<Record<string, string>>

/** A spec directory: moor.yaml with the scope, one folder per app with its compose.yaml. */
export const writeSpec = (dir: string, scope: string, apps: SpecApps): void => {
  writeFileSync(join(dir, "moor.yaml"), `scope: ${scope}\n`)
  for (const [app, compose] of Object.entries(apps)) {
    mkdirSync(join(dir, app), { recursive: true })
    writeFileSync(join(dir, app, "compose.yaml"), compose)
  }
}

export const service = (name: string, image: string, extra = "") =>
  `services:\n  ${name}:\n    image: ${image}\n${extra}`

export const defaultApps: SpecApps = {
  web: service("server", "moor-http/web:1"),
  api: service("server", "moor-http/api:1"),
  hello: service("main", "ghcr.io/codertocat/hello-world:nightly")
}

export interface Harness {
  readonly dir: string
  readonly handler: (request: Request, context?: PlatformContext) => Promise<Response>
  readonly engine: MemoryEngineShape
  readonly repo: RepoShape
  readonly heartbeat: HeartbeatShape
  readonly logs: Array<string>
  readonly gitCalls: Array<{ dir: string; branch: string }>
  /** Runs an effect on the harness's services. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, MemoryEngine | Repo>) => Promise<A>
  readonly close: () => Promise<void>
}

export interface HarnessOptions {
  readonly apps?: SpecApps
  readonly settings?: Partial<ServeSettings>
  /** What a push's checkout update does (default: nothing changes). */
  readonly gitSync?: (dir: string) => GitShape["sync"]
  /** Engine latency added to each observe (to hold a pass open). */
  readonly observeDelayMs?: number
}

/** Everything a log line holds, as text: message and annotations. */
const captureLogger = (logs: Array<string>) =>
  Logger.make((options) => {
    logs.push(`${options.logLevel} ${Logger.formatJson.log(options)}`)
  })

export const makeHarness = async (options: HarnessOptions = {}): Promise<Harness> => {
  const dir = mkdtempSync(join(tmpdir(), "moor-http-"))
  writeSpec(dir, "httptest", options.apps ?? defaultApps)
  settleTree(dir)
  const logs: Array<string> = []
  const gitCalls: Array<{ dir: string; branch: string }> = []
  const settings: ServeSettings = {
    spec: dir,
    scope: undefined,
    dockerHost: undefined,
    repo: "memory",
    policy: {},
    apiToken: Redacted.make(TOKEN),
    github: { secret: Redacted.make(SECRET), repository: REPOSITORY, branch: "master", checkout: dir },
    bodyLimitBytes: MIB,
    pass: { ...defaultPassSettings, settleMs: 0, leaseWaitMs: 0 },
    drainTimeoutMs: 5_000,
    ...options.settings
  }
  const sync = options.gitSync?.(dir) ?? (() => Effect.succeed({ before: "a".repeat(40), after: "b".repeat(40) }))
  const delay = options.observeDelayMs ?? 0
  const memory = DockerMemory.layer({ images: testImages })
  const docker =
    delay === 0
      ? memory
      : Layer.effect(
          Docker,
          Effect.gen(function* () {
            const d = yield* Docker
            return Docker.of({
              ...d,
              observe: (host: string, scope: string) => Effect.delay(d.observe(host, scope), `${delay} millis`)
            })
          })
        ).pipe(Layer.provideMerge(memory))
  const layer = Layer.mergeAll(
    docker,
    Repo.layerMemory,
    Bus.layerMemory,
    SpecLoader.layer,
    Heartbeat.layer,
    Git.layerTest((d, branch) => {
      gitCalls.push({ dir: d, branch })
      return sync(d, branch)
    }),
    Logger.layer([captureLogger(logs)])
  )
  // One set of services, shared by the handler and the test's own look behind it.
  let services: { engine: MemoryEngineShape; repo: RepoShape; heartbeat: HeartbeatShape } | undefined
  const grab = Layer.effectDiscard(
    Effect.gen(function* () {
      services = { engine: yield* MemoryEngine, repo: yield* Repo, heartbeat: yield* Heartbeat }
    })
  )
  const { handler, dispose } = makeHandler({
    settings,
    layer: Layer.merge(layer, grab.pipe(Layer.provide(layer))),
    logRequests: true
  })
  await handler(new Request("http://moor.test/healthz"))
  if (services === undefined) throw new Error("harness: services not built")
  const s = services
  return {
    dir,
    handler,
    engine: s.engine,
    repo: s.repo,
    heartbeat: s.heartbeat,
    logs,
    gitCalls,
    run: (effect) =>
      Effect.runPromise(
        effect.pipe(Effect.provideService(MemoryEngine, s.engine), Effect.provideService(Repo, Repo.of(s.repo)))
      ),
    close: async () => {
      await dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

export const authed = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) }
})

export const call = (h: Harness, path: string, init: RequestInit = {}, context?: PlatformContext) =>
  h.handler(new Request(`http://moor.test${path}`, init), context)

export const jsonOf = async (res: Response): Promise<Record<string, unknown>> =>
  (await res.json()) as Record<string, unknown>

let deliveryCounter = 0
export const newDelivery = (): string => `72d3162e-cc78-11e3-81ab-4c9367dc${String(++deliveryCounter).padStart(4, "0")}`

/** A GitHub delivery: body signed with `secret`, event and delivery headers (`delivery: null`: none). */
export const githubRequest = (
  event: string,
  payload: unknown,
  options: { secret?: string; delivery?: string | null; signature?: string | null } = {}
): RequestInit => {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload)
  const signature = options.signature === undefined ? signBody(body, options.secret ?? SECRET) : options.signature
  return {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      ...(options.delivery === null ? {} : { "x-github-delivery": options.delivery ?? newDelivery() }),
      ...(signature === null ? {} : { "x-hub-signature-256": signature })
    }
  }
}
