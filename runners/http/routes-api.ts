/**
 * The API a deploy pipeline or a registry calls, all behind the bearer token:
 * `POST /v1/reconcile`, `GET /v1/runs/:id`, `POST /v1/hooks/image`.
 */
import { Effect, Layer, type Redacted, Schema } from "effect"
import { HttpRouter } from "effect/http"
import { Repo } from "../../adapters/repo/Repo.ts"
import { describe, summaryLine } from "../../core/describe.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { planForOutput } from "../../core/redact.ts"
import type { Loaded } from "../cli/context.ts"
import { newPassId, runIdOf } from "../pass/ids.ts"
import { reconcilePass } from "../pass/pass.ts"
import { requireBearer } from "./auth.ts"
import { completeAccepted } from "./completion.ts"
import { ImageHookBody } from "./images.ts"
import { PassQueue, type PassRequest, type QueueClosed, type Ticket } from "./pass-queue.ts"
import { decodeBody, fail, HttpFailure, json, readBody, resource } from "./respond.ts"
import { Settings } from "./settings.ts"
import { appNamesOf, type SpecUnavailable, SpecSource, usesOfImage } from "./spec-source.ts"
import { passJson, runJson } from "./views.ts"

const AppName = Schema.String.check(
  Schema.isPattern(/^[a-z0-9][a-z0-9_.-]*$/, { message: "an app name (lower-case letters, digits, '_', '.', '-')" })
)
export const ReconcileBody = Schema.Struct({
  apps: Schema.optionalKey(Schema.Array(AppName).check(Schema.isMinLength(1))),
  dryRun: Schema.optionalKey(Schema.Boolean)
})

const specUnavailable = (e: SpecUnavailable) =>
  new HttpFailure({ status: 503, error: "the spec could not be loaded", detail: e.message })
const loadSpec = SpecSource.use((s) => s.load).pipe(Effect.mapError(specUnavailable))
const repoDown = (e: { readonly message: string }) =>
  new HttpFailure({ status: 503, error: "the state repository did not answer", detail: e.message })
const closed = (e: QueueClosed) => new HttpFailure({ status: 503, error: "shutting down", detail: e.message })

/** Queues the pass and answers 202 with its id and runs; waits for it when the request asks so. */
export const accept = (request: PassRequest, hosts: ReadonlyArray<string>, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const queue = yield* PassQueue
    const ticket: Ticket = yield* queue.submit(request, hosts).pipe(Effect.mapError(closed))
    const done = yield* completeAccepted(queue, ticket.passId)
    return json(
      202,
      {
        status: "accepted",
        passId: ticket.passId,
        runs: ticket.runIds,
        state: ticket.state,
        coalesced: ticket.coalesced,
        ...extra,
        links: { pass: `/v1/runs/${ticket.passId}` },
        ...(done === undefined ? {} : { pass: passJson(done) })
      },
      { location: `/v1/runs/${ticket.passId}` }
    )
  })

const dryRun = (loaded: Loaded, apps: ReadonlyArray<string> | undefined) =>
  Effect.gen(function* () {
    const settings = yield* Settings
    const pass = yield* reconcilePass({
      id: yield* newPassId,
      trigger: "webhook",
      desired: loaded.desired,
      policy: makePolicy(settings.policy),
      hosts: loaded.hosts,
      apps,
      dryRun: true,
      holder: "dry-run",
      lease: { ttlMs: settings.pass.leaseTtlMs, waitMs: 0 }
    }).pipe(Effect.mapError(repoDown))
    return json(200, {
      status: "planned",
      dryRun: true,
      apps: apps ?? "all",
      summary: summaryLine(pass.finalPlan),
      text: describe(pass.finalPlan),
      plan: planForOutput(pass.finalPlan)
    })
  })

const reconcile = (token: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    yield* requireBearer(token)
    const body = yield* decodeBody(ReconcileBody, yield* readBody, { what: "request body", emptyIsObject: true })
    const loaded = yield* loadSpec
    const apps = body.apps === undefined ? undefined : [...new Set(body.apps)].sort()
    if (apps !== undefined) {
      const known = appNamesOf(loaded)
      const unknown = apps.filter((a) => !known.includes(a))
      if (unknown.length > 0)
        return yield* fail(400, "unknown apps", { unknown, apps: known, hint: "name apps the spec declares" })
    }
    if (body.dryRun === true) return yield* dryRun(loaded, apps)
    return yield* accept({ apps, reason: "POST /v1/reconcile" }, loaded.hosts, { apps: apps ?? "all" })
  })

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/

const runs = (token: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    yield* requireBearer(token)
    const { id = "" } = yield* HttpRouter.params
    if (!RUN_ID.test(id))
      return yield* fail(400, "invalid id", "a run or pass id holds letters, digits, '.', '_', ':' and '-'")
    const repo = yield* Repo
    const run = yield* repo.getRun(id).pipe(Effect.mapError(repoDown))
    if (run !== undefined) return json(200, { run: runJson(run) })

    // A pass id: its runs are <passId>-<host>.
    const pass = yield* (yield* PassQueue).status(id)
    let hosts: ReadonlyArray<string> = pass?.report?.runs.map((r) => r.host) ?? pass?.hosts ?? []
    if (pass === undefined) {
      const loaded = yield* Effect.result(loadSpec)
      hosts = loaded._tag === "Success" ? loaded.success.hosts : []
    }
    const details = yield* Effect.forEach(hosts, (host) =>
      repo.getRun(runIdOf(id, host)).pipe(Effect.mapError(repoDown))
    )
    const found = details.flatMap((d) => (d === undefined ? [] : [runJson(d)]))
    if (pass === undefined && found.length === 0)
      return yield* fail(
        404,
        "not found",
        `no run or pass with id ${id} (passes are /v1/runs/<passId>, runs <passId>-<host>)`
      )
    return json(200, {
      pass: pass === undefined ? { id, state: "finished" } : passJson(pass),
      runs: found
    })
  })

const imageHook = (token: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    yield* requireBearer(token)
    const { image } = yield* decodeBody(ImageHookBody, yield* readBody, { what: "request body" })
    const loaded = yield* loadSpec
    const uses = usesOfImage(loaded, image)
    if (uses.length === 0) return json(200, { status: "ignored", reason: `no service in the spec runs ${image}` })
    return yield* accept(
      { images: [image], reason: `image ${image} pushed` },
      [...new Set(uses.map((u) => u.host))].sort(),
      { image, services: uses }
    )
  })

/** The token-protected routes; none of them when no token is configured. */
export const apiRoutes = (token: Redacted.Redacted<string>) =>
  Layer.mergeAll(
    resource("/v1/reconcile", { POST: reconcile(token) }),
    resource("/v1/runs/:id", { GET: runs(token) }),
    resource("/v1/hooks/image", { POST: imageHook(token) })
  )
