/**
 * The webhook bus: one HTTP POST per event, the event as JSON, signed like GitHub's webhooks:
 *
 *   Content-Type: application/json
 *   X-Moor-Event: <type>                  app.state | run.lifecycle | heartbeat
 *   X-Moor-Topic: <topic>                 moor.<scope>....
 *   X-Moor-Delivery: <uuid>               the same on the retry: receivers can drop duplicates
 *   X-Moor-Signature-256: sha256=<hex>    HMAC-SHA256 of the raw body, key MOOR_BUS_WEBHOOK_SECRET
 *
 * Any 2xx is a delivery. A connection error, a 429 or a 5xx is retried once, 100 ms later; a
 * 3xx or 4xx is not retried (redirects are not followed). The bus's publish timeout bounds both
 * attempts together.
 */
import { createHmac, randomUUID } from "node:crypto"
import { Effect, Redacted, Schedule } from "effect"
import type { Backend, Outgoing } from "./backend.ts"
import { BusError } from "./BusError.ts"
import { safeUrl } from "./config.ts"

/** `sha256=<hex>`: the value of X-Moor-Signature-256 for this body. */
export const signatureOf = (secret: Redacted.Redacted<string>, body: string): string =>
  `sha256=${createHmac("sha256", Redacted.value(secret)).update(body, "utf8").digest("hex")}`

/** What went wrong with fetch, in words: the cause's code (ECONNREFUSED...) when there is one. */
const fetchProblem = (error: unknown): string => {
  if (error instanceof Error) {
    const cause: unknown = error.cause
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code
      return typeof code === "string" ? `${code}: ${cause.message}` : cause.message
    }
    return error.message
  }
  return String(error)
}

export const webhookBackend = (url: string, secret: Redacted.Redacted<string> | undefined): Backend => {
  const name = `webhook ${safeUrl(url)}`
  const fail = (reason: BusError["reason"], message: string) =>
    new BusError({ backend: name, op: "publish", reason, message })

  const attempt = (message: Outgoing, delivery: string) =>
    Effect.tryPromise({
      try: (signal) =>
        fetch(url, {
          method: "POST",
          body: message.body,
          signal,
          redirect: "manual",
          headers: {
            "content-type": "application/json",
            "user-agent": "moor",
            "x-moor-event": message.event.type,
            "x-moor-topic": message.topic,
            "x-moor-delivery": delivery,
            ...(secret === undefined ? {} : { "x-moor-signature-256": signatureOf(secret, message.body) })
          }
        }),
      catch: (error) => fail("unavailable", fetchProblem(error))
    }).pipe(
      Effect.flatMap((response) => {
        // Read nothing of the body: free the connection.
        void response.body?.cancel().catch(() => undefined)
        if (response.ok) return Effect.void
        const retryable = response.status === 429 || response.status >= 500
        const redirect = response.status >= 300 && response.status < 400 ? " (redirects are not followed)" : ""
        return Effect.fail(fail(retryable ? "unavailable" : "rejected", `HTTP ${response.status}${redirect}`))
      })
    )

  return {
    name,
    send: (message) =>
      Effect.suspend(() => {
        const delivery = randomUUID()
        return attempt(message, delivery).pipe(
          Effect.retry({ times: 1, schedule: Schedule.spaced("100 millis"), while: (e) => e.reason === "unavailable" })
        )
      })
  }
}
