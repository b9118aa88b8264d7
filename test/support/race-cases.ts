/**
 * Races between runners, as cases: an engine is set up, a plan is made from what it shows, then
 * another runner (or a person) acts on the engine a moment before this runner executes that plan.
 * The cases run on the in-memory engine (test/unit/execute-races.test.ts) and on the real one
 * (test/e2e/races.test.ts), which must tell the same story: each action's outcome, and its error.
 * Every case has its own scope; app names start with `p`, so that runs on one engine do not meet.
 */
import { Effect } from "effect"
import { Docker, type DockerError, type DockerShape } from "../../adapters/docker/Docker.ts"
import type { App } from "../../core/model/desired.ts"
import type { Plan } from "../../core/model/plan.ts"
import type { Policy } from "../../core/model/policy.ts"
import { plan } from "../../core/plan/plan.ts"
import { execute } from "../../runners/execute/executor.ts"
import type { ActionResult } from "../../runners/execute/result.ts"
import { app, desired, policy, svc } from "./core-fixtures.ts"

const quick = { healthcheck: { disable: true } }
const web = (image = "moor-fixture/app:1", extra = {}) => svc(image, { ...quick, ...extra })

export interface RaceCase {
  readonly name: string
  /** Deployed first (converged). */
  readonly before: (p: string, port: number) => ReadonlyArray<App>
  /** The desired state of the plan under test. */
  readonly after: (p: string, port: number) => ReadonlyArray<App>
  readonly policy?: Partial<Policy>
  /** After `before` converged, before the observation the plan is made from. */
  readonly setUp?: (p: string) => Effect.Effect<unknown, DockerError, Docker>
  /** Between the observation and the execution. Default: another runner executes the same plan. */
  readonly other?: (p: string, scope: string, plan: Plan) => Effect.Effect<unknown, DockerError, Docker>
  /** Each action (`kind app-or-target`) and its outcome: `done`, or `failed: ` and a part of the error. */
  readonly expect: ReadonlyArray<string>
}

const sameAgain = (_p: string, scope: string, p: Plan) => execute(p, { scope, retryBaseMs: 10 })
const withDocker = <A>(f: (d: DockerShape) => Effect.Effect<A, DockerError>) =>
  Effect.gen(function* () {
    return yield* f(yield* Docker)
  })

export const raceCases: ReadonlyArray<RaceCase> = [
  {
    name: "a container created and started by another runner a moment before (its network too)",
    before: () => [],
    after: (p) => [app(`${p}a`, { s: web() })],
    expect: ["ensure-network: done", "create: done", "start: done"]
  },
  {
    name: "an orphan stopped and removed by another runner, its network too",
    before: (p) => [app(`${p}o`, { s: web() })],
    after: () => [],
    expect: ["stop: done", "remove: done", "remove-network: done"]
  },
  {
    name: "an orphan removed by a person (docker rm -f) a moment before",
    before: (p) => [app(`${p}r`, { s: web() })],
    after: () => [],
    other: (p) => withDocker((d) => d.removeContainer("local", `${p}r-s-1`)),
    expect: ["stop: done", "remove: done", "remove-network: done"]
  },
  {
    name: "an app's volume removed by another runner (removeVolumes)",
    before: (p) => [
      app(
        `${p}v`,
        { s: web("moor-fixture/app:1", { mounts: [{ type: "volume", source: "data", target: "/data" }] }) },
        { volumes: { data: {} } }
      )
    ],
    after: () => [],
    policy: { removeVolumes: true },
    expect: ["stop: done", "remove: done", "remove-network: done", "remove-volume: done"]
  },
  {
    name: "a new volume created by another runner",
    before: () => [],
    after: (p) => [
      app(
        `${p}w`,
        { s: web("moor-fixture/app:1", { mounts: [{ type: "volume", source: "data", target: "/data" }] }) },
        { volumes: { data: {} } }
      )
    ],
    expect: ["ensure-network: done", "ensure-volume: done", "create: done", "start: done"]
  },
  {
    name: "a start-first replacement made by another runner",
    before: (p) => [app(`${p}f`, { s: web("moor-fixture/app:1") })],
    after: (p) => [app(`${p}f`, { s: web("moor-fixture/app:2") })],
    expect: ["recreate: done"]
  },
  {
    name: "a stop-first replacement (a published port) made by another runner",
    before: (p, port) => [
      app(`${p}g`, { s: web("moor-fixture/app:1", { ports: [{ target: 8080, published: port }] }) })
    ],
    after: (p, port) => [
      app(`${p}g`, { s: web("moor-fixture/app:2", { ports: [{ target: 8080, published: port }] }) })
    ],
    expect: ["recreate: done"]
  },
  {
    name: "the name taken by a container moor does not own, a moment before",
    before: () => [],
    after: (p) => [app(`${p}n`, { s: web() })],
    other: (p) =>
      withDocker((d) =>
        d.createContainer("local", {
          name: `${p}n-s-1`,
          image: "moor-fixture/app:1",
          env: [],
          labels: {},
          ports: [],
          mounts: [],
          networks: []
        })
      ),
    expect: [
      "ensure-network: done",
      "create: failed: the name <p>n-s-1 is taken by a container moor does not own here (no moor.scope label, id <id>): remove or rename that container, or rename the service",
      "start: skipped"
    ]
  },
  {
    name: "a stopped container removed by a person before it is started",
    before: (p) => [app(`${p}s`, { s: web() })],
    after: (p) => [app(`${p}s`, { s: web() })],
    setUp: (p) => withDocker((d) => d.stopContainer("local", `${p}s-s-1`, 1_000)),
    other: (p) => withDocker((d) => d.removeContainer("local", `${p}s-s-1`)),
    expect: [
      "start: failed: <p>s-s-1 is gone: it was removed since it was observed (by another runner, or by hand); the next pass creates it again"
    ]
  },
  {
    name: "an orphan network that a container was attached to by another runner",
    before: (p) => [app(`${p}u`, { s: web() })],
    after: () => [],
    other: (p, scope) =>
      withDocker((d) =>
        Effect.andThen(
          d.createContainer("local", {
            name: `${p}u-t-1`,
            image: "moor-fixture/app:1",
            env: [],
            labels: { "moor.scope": `${scope}-other` },
            ports: [],
            mounts: [],
            networks: [{ name: `${p}u_default`, aliases: [] }]
          }),
          d.startContainer("local", `${p}u-t-1`)
        )
      ),
    expect: [
      "stop: done",
      "remove: done",
      'remove-network: failed: network <p>u_default is still in use: a container was attached to it since it was observed (another runner, or a person); it is kept (the engine said: remove network "<p>u_default" on host "local": error while removing network: network <p>u_default id <id> has active endpoints (HTTP 403))'
    ]
  },
  {
    name: "an orphan volume that a container made by another runner mounts",
    before: (p) => [
      app(
        `${p}m`,
        { s: web("moor-fixture/app:1", { mounts: [{ type: "volume", source: "data", target: "/data" }] }) },
        { volumes: { data: {} } }
      )
    ],
    after: () => [],
    policy: { removeVolumes: true },
    other: (p, scope) =>
      withDocker((d) =>
        d.createContainer("local", {
          name: `${p}m-t-1`,
          image: "moor-fixture/app:1",
          env: [],
          labels: { "moor.scope": `${scope}-other` },
          ports: [],
          mounts: [{ type: "volume", source: `${p}m_data`, target: "/data", readOnly: false }],
          networks: []
        })
      ),
    expect: [
      "stop: done",
      "remove: done",
      "remove-network: done",
      'remove-volume: failed: volume <p>m_data is in use: a container that mounts it was made since it was observed (another runner, or a person); it is kept, with its data (the engine said: remove volume "<p>m_data" on host "local": remove <p>m_data: volume is in use - [<id>] (HTTP 409))'
    ]
  }
]

const converge = (scope: string, apps: ReadonlyArray<App>, pol: Policy) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    for (let round = 0; round < 4; round++) {
      const p = plan(desired(apps, { scope }), { now: Date.now(), hosts: [yield* docker.observe("local", scope)] }, pol)
      if (p.actions.every((a) => a._tag === "skip")) return
      yield* execute(p, { scope, retryBaseMs: 10 })
    }
  })

/** `kind: outcome` per action, the error with the app prefix and engine ids made neutral. */
export const outcomesOf = (p: string, results: ReadonlyArray<ActionResult>): ReadonlyArray<string> =>
  results
    .filter((r) => r.action._tag !== "pull-image" && r.action._tag !== "wait-healthy")
    .map(
      (r) =>
        `${r.action._tag}: ${r.outcome}${
          r.outcome === "failed"
            ? `: ${(r.error ?? "")
                .replaceAll(p, "<p>")
                .replace(/^[^:]*: /, "")
                .replace(/\b[0-9a-f]{12,64}\b/g, "<id>")}`
            : ""
        }`
    )

/** Runs one case in `scope`; returns its outcomes. */
export const runRaceCase = (c: RaceCase, p: string, scope: string, port: number) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    const pol = policy(c.policy ?? {})
    yield* converge(scope, c.before(p, port), pol)
    if (c.setUp !== undefined) yield* c.setUp(p)
    const observed = { now: Date.now(), hosts: [yield* docker.observe("local", scope)] }
    const p1 = plan(desired(c.after(p, port), { scope }), observed, pol)
    yield* (c.other ?? sameAgain)(p, scope, p1)
    return outcomesOf(p, yield* execute(p1, { scope, retryBaseMs: 10 }))
  })
