/**
 * A pass leaves its records in PostgreSQL when configured, and its events reach a real NATS
 * subscriber and a signed webhook receiver, the same events in the same order.
 */
import { createHmac } from "node:crypto"
import { connect } from "@nats-io/transport-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import { Bus } from "../../adapters/bus/Bus.ts"
import { DockerMemory, MemoryEngine } from "../../adapters/docker/memory.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { reconcilePass } from "../../runners/pass/pass.ts"
import { webhookReceiver } from "../support/bus-testing.ts"
import { app, desired, svc } from "../support/core-fixtures.ts"
import { natsUrl, requireServers } from "../support/env.ts"
import { dropTestSchemas, uniqueSchema, urlWithSchema } from "../support/repo/pg.ts"

const SCOPE = "pgevt"
const IMAGE = "moor-test/plain:1"
const SECRET = "a webhook secret"
const spec = desired([app("pga", { a: svc(IMAGE), b: svc(IMAGE) })], { scope: SCOPE })
const pass = (id: string) =>
  reconcilePass({
    id,
    trigger: "webhook",
    desired: spec,
    policy: makePolicy(),
    hosts: ["local"],
    holder: "e2e",
    lease: { ttlMs: 60_000, waitMs: 0 }
  })

beforeAll(() => requireServers("postgres", "nats"))
afterAll(() => dropTestSchemas())

describe("a pass on PostgreSQL, NATS and a webhook", () => {
  it.live("records runs, actions and app states in PostgreSQL; NATS and the webhook get the same signed events", () =>
    Effect.gen(function* () {
      const nats = yield* Effect.promise(() => connect({ servers: natsUrl }))
      yield* Effect.addFinalizer(() => Effect.promise(() => nats.close()))
      const natsSeen: Array<string> = []
      const sub = nats.subscribe(`moor.${SCOPE}.>`, {
        callback: (_e, m) => {
          natsSeen.push(m.subject)
        }
      })
      yield* Effect.promise(() => nats.flush())
      const receiver = yield* webhookReceiver()
      const layers = Layer.mergeAll(
        DockerMemory.layer({ images: [{ ref: IMAGE }] }),
        Repo.layerFromUrl(urlWithSchema(uniqueSchema())),
        Bus.layerFromUrl(`${natsUrl},webhook+${receiver.url}`, { webhookSecret: Redacted.make(SECRET) })
      )
      yield* Effect.gen(function* () {
        const repo = yield* Repo
        const engine = yield* MemoryEngine
        const deployed = yield* pass("pg-deploy")
        expect(deployed.runs).toMatchObject([{ id: "pg-deploy-local", status: "succeeded" }])
        yield* engine.kill("local", "pga-a-1")
        yield* pass("pg-heal")

        expect(repo.backend).toBe("postgres")
        const runs = yield* repo.listRuns({ scope: SCOPE, limit: 10 })
        expect(runs.map((r) => `${r.id} ${r.trigger} ${r.status}`)).toEqual([
          "pg-heal-local webhook succeeded",
          "pg-deploy-local webhook succeeded"
        ])
        const heal = yield* repo.getRun("pg-heal-local")
        expect(heal?.actions.map((a) => `${a.kind} ${a.app}/${a.service} ${a.outcome}`)).toEqual(["start pga/a done"])
        expect((yield* repo.appStates(SCOPE, "local")).map((s) => `${s.app} ${s.state}`)).toEqual(["pga running"])
        expect((yield* repo.recentRestarts(SCOPE, "local", 0)).map((r) => `${r.app}/${r.service}`)).toEqual(["pga/a"])
      }).pipe(Effect.provide(layers))

      const hooks = yield* receiver.waitFor(10, 10_000)
      yield* Effect.sleep("200 millis")
      sub.unsubscribe()
      const topics = hooks.map((h) => String(h.headers["x-moor-topic"]))
      expect(topics).toEqual(natsSeen)
      expect(topics.filter((t) => t.includes(".app."))).toEqual([
        "moor.pgevt.app.local.pga.state",
        "moor.pgevt.app.local.pga.state",
        "moor.pgevt.app.local.pga.state",
        "moor.pgevt.app.local.pga.state"
      ])
      for (const h of hooks) {
        const expected = `sha256=${createHmac("sha256", SECRET).update(h.body).digest("hex")}`
        expect(h.headers["x-moor-signature-256"]).toBe(expected)
      }
      const states = hooks.map(
        (h) =>
          JSON.parse(h.body) as { type: string; previous?: string | null; current?: string | null; status?: string }
      )
      expect(states.map((e) => (e.type === "app.state" ? `${e.previous} -> ${e.current}` : `run ${e.status}`))).toEqual(
        [
          "run pending",
          "run running",
          "null -> pending",
          "pending -> running",
          "run succeeded",
          "run pending",
          "run running",
          "running -> degraded",
          "degraded -> running",
          "run succeeded"
        ]
      )
    }).pipe(Effect.scoped)
  )
})
