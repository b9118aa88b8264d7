/**
 * Who may call: a bearer token (`Authorization: Bearer <MOOR_API_TOKEN>`) or GitHub's signature
 * (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the webhook secret>`). Both
 * are compared in constant time (`timingSafeEqual`); neither the expected nor the given value ever
 * appears in an answer or a log.
 */
import { Effect, Redacted } from "effect"
import { HttpServerRequest } from "effect/http"
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import { HttpFailure } from "./respond.ts"

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export const sameSecret = (given: string, expected: Redacted.Redacted<string>): boolean =>
  timingSafeEqual(digest(given), digest(Redacted.value(expected)))

const unauthorized = (detail: string, scheme?: string) =>
  new HttpFailure({
    status: 401,
    error: "unauthorized",
    detail,
    headers: scheme === undefined ? undefined : { "www-authenticate": scheme }
  })

/** Fails with 401 unless the request carries the bearer token. */
export const requireBearer = (token: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const req = yield* HttpServerRequest.HttpServerRequest
    const header = req.headers["authorization"]
    if (header === undefined || header.trim() === "")
      return yield* unauthorized(
        "missing Authorization header: send Authorization: Bearer <token>",
        'Bearer realm="moor"'
      )
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
    if (match === null)
      return yield* unauthorized("the Authorization header must be: Bearer <token>", 'Bearer realm="moor"')
    if (!sameSecret(match[1] ?? "", token))
      return yield* unauthorized("the bearer token is not valid", 'Bearer realm="moor", error="invalid_token"')
  })

export const SIGNATURE_HEADER = "x-hub-signature-256"

export type SignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "missing" | "algorithm" | "malformed" | "mismatch"; readonly detail: string }

/** Checks GitHub's `X-Hub-Signature-256` value against the raw body. */
export const checkGithubSignature = (
  header: string | undefined,
  body: Uint8Array,
  secret: Redacted.Redacted<string>
): SignatureCheck => {
  if (header === undefined || header.trim() === "")
    return { ok: false, reason: "missing", detail: "missing X-Hub-Signature-256 header (is the webhook's secret set?)" }
  const eq = header.indexOf("=")
  const algorithm = eq === -1 ? "" : header.slice(0, eq).trim().toLowerCase()
  if (algorithm !== "sha256")
    return {
      ok: false,
      reason: "algorithm",
      detail: "X-Hub-Signature-256 must be sha256=<hex HMAC-SHA256 of the body>"
    }
  const hex = header.slice(eq + 1).trim()
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    return { ok: false, reason: "malformed", detail: "the X-Hub-Signature-256 value is not 64 hex digits" }
  const expected = createHmac("sha256", Redacted.value(secret)).update(body).digest()
  const given = Buffer.from(hex, "hex")
  if (!timingSafeEqual(expected, given))
    return {
      ok: false,
      reason: "mismatch",
      detail: "the signature does not match the body (check the webhook's secret)"
    }
  return { ok: true }
}

/** Fails with 401 unless the body is signed with the webhook secret. */
export const requireGithubSignature = (body: Uint8Array, secret: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const req = yield* HttpServerRequest.HttpServerRequest
    const check = checkGithubSignature(req.headers[SIGNATURE_HEADER], body, secret)
    if (!check.ok) return yield* unauthorized(check.detail)
  })

/** `sha256=<hex>`: what GitHub sends (tests, and clients of moor's own hooks). */
export const signBody = (body: string | Uint8Array, secret: string): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`
