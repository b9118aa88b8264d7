/**
 * `POST /v1/hooks/github`: GitHub's webhook, signed with the webhook secret. `ping` answers;
 * `push` to the configured repository and branch updates the spec checkout and reconciles;
 * `package` / `registry_package` `published` pulls the image and reconciles the apps that run it.
 * Everything else, and pushes elsewhere, is acknowledged with 200 `ignored` and the reason. Every
 * delivery must carry its id (`X-GitHub-Delivery`, as GitHub's always do): one without is refused,
 * since nothing would then stop a captured delivery from being replayed. A delivery id seen before
 * is acknowledged with `duplicate: true` and not acted on again.
 */
import { Effect } from "effect"
import { HttpServerRequest } from "effect/http"
import { requireGithubSignature } from "./auth.ts"
import { Deliveries } from "./deliveries.ts"
import {
  PackagePayload,
  PingPayload,
  publishedImage,
  PushPayload,
  pushDecision,
  RegistryPackagePayload,
  type Package
} from "./github-events.ts"
import { decodeBody, fail, json, readBody, resource } from "./respond.ts"
import { accept } from "./routes-api.ts"
import type { GithubSettings } from "./settings.ts"
import { SpecSource, usesOfImage } from "./spec-source.ts"

const HANDLED = ["ping", "push", "package", "registry_package"]
const EVENT = /^[a-z_]{1,64}$/
const DELIVERY = /^[A-Za-z0-9-]{1,100}$/

const ignored = (reason: string, extra: Record<string, unknown> = {}) =>
  json(200, { status: "ignored", reason, ...extra })

const onPush = (github: GithubSettings, bytes: Uint8Array) =>
  Effect.gen(function* () {
    const push = yield* decodeBody(PushPayload, bytes, { what: "push payload", strict: false })
    const decision = pushDecision(push, github.repository, github.branch)
    if (!decision.act) return ignored(decision.reason)
    // Run ids name the spec's hosts as they are now; the push may change them.
    const loaded = yield* Effect.result(SpecSource.use((s) => s.load))
    const hosts = loaded._tag === "Success" ? loaded.success.hosts : []
    return yield* accept(
      {
        syncCheckout: true,
        reason: `github push to ${push.repository.full_name} ${push.ref} ${decision.commit.slice(0, 12)}`
      },
      hosts,
      { event: "push", commit: decision.commit }
    )
  })

const onPackage = (event: string, pkg: Package, action: string) =>
  Effect.gen(function* () {
    if (action !== "published") return ignored(`${event} ${action}: only published packages are acted on`)
    const published = publishedImage(pkg)
    if ("ignored" in published) return ignored(published.ignored)
    const loaded = yield* (yield* SpecSource).load.pipe(
      Effect.catchTag("SpecUnavailable", (e) => fail(503, "the spec could not be loaded", e.message))
    )
    const uses = usesOfImage(loaded, published.image)
    if (uses.length === 0) return ignored(`no service in the spec runs ${published.image}`, { image: published.image })
    return yield* accept(
      { images: [published.image], reason: `github ${event} published ${published.image}` },
      [...new Set(uses.map((u) => u.host))].sort(),
      { event, image: published.image, services: uses }
    )
  })

const handle = (github: GithubSettings, event: string, bytes: Uint8Array) =>
  Effect.gen(function* () {
    switch (event) {
      case "ping": {
        const ping = yield* decodeBody(PingPayload, bytes, { what: "ping payload", strict: false })
        return json(200, { status: "pong", zen: ping.zen ?? null, hookId: ping.hook_id ?? null })
      }
      case "push":
        return yield* onPush(github, bytes)
      case "package": {
        const p = yield* decodeBody(PackagePayload, bytes, { what: "package payload", strict: false })
        return yield* onPackage(event, p.package, p.action)
      }
      case "registry_package": {
        const p = yield* decodeBody(RegistryPackagePayload, bytes, { what: "registry_package payload", strict: false })
        return yield* onPackage(event, p.registry_package, p.action)
      }
      default:
        return ignored(`event ${event} is not handled (moor acts on ${HANDLED.join(", ")})`)
    }
  })

const githubHook = (github: GithubSettings) =>
  Effect.gen(function* () {
    const bytes = yield* readBody
    yield* requireGithubSignature(bytes, github.secret)
    const req = yield* HttpServerRequest.HttpServerRequest
    const event = (req.headers["x-github-event"] ?? "").trim()
    if (!EVENT.test(event))
      return yield* fail(400, "missing or invalid X-GitHub-Event header", "GitHub names the event in X-GitHub-Event")
    const delivery = req.headers["x-github-delivery"]?.trim()
    if (delivery === undefined || delivery === "")
      return yield* fail(
        400,
        "missing X-GitHub-Delivery header",
        "GitHub gives every delivery an id (a GUID), and moor acts on each id once: send it"
      )
    if (!DELIVERY.test(delivery)) return yield* fail(400, "invalid X-GitHub-Delivery header", "a delivery id is a GUID")

    const deliveries = yield* Deliveries
    if (!(yield* deliveries.claim(delivery)))
      return json(200, { status: "duplicate", duplicate: true, delivery, reason: "this delivery was already handled" })
    // Not handled (refused, or failed): a redelivery gets another chance.
    return yield* handle(github, event, bytes).pipe(
      Effect.tap((res) => (res.status >= 300 ? deliveries.release(delivery) : Effect.void)),
      Effect.onError(() => deliveries.release(delivery))
    )
  })

export const githubRoutes = (github: GithubSettings) => resource("/v1/hooks/github", { POST: githubHook(github) })
