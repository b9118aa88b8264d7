/**
 * How every route answers: JSON bodies, `{"error": "...", "detail": ...}` for anything refused,
 * bodies read up to the limit (413 without reading further), JSON decoded with Schema (400 with
 * where and what was wrong), 405 with `Allow` for a known path and another method. A route's
 * failure is an `HttpFailure`; anything else is logged and answered 500 without details.
 */
import { ByteSize, Cause, Data, Effect, Schema, SchemaIssue } from "effect"
import {
  HttpIncomingMessage,
  HttpRouter,
  HttpServerRequest,
  HttpServerResponse,
  type HttpServerResponse as Response
} from "effect/http"
import { Metrics } from "./metrics.ts"
import { Settings } from "./settings.ts"

export class HttpFailure extends Data.TaggedError("HttpFailure")<{
  readonly status: number
  readonly error: string
  readonly detail?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}> {}

export const json = (
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>
): Response.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(body, {
    status,
    headers: { "cache-control": "no-store", ...(headers ?? {}) }
  })

export const failureResponse = (f: HttpFailure): Response.HttpServerResponse =>
  json(f.status, f.detail === undefined ? { error: f.error } : { error: f.error, detail: f.detail }, f.headers)

export const fail = (status: number, error: string, detail?: unknown, headers?: Readonly<Record<string, string>>) =>
  Effect.fail(new HttpFailure({ status, error, detail, headers }))

const MiB = 1024 * 1024
const showLimit = (bytes: number) => (bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`)

/** The raw body, at most `Settings.bodyLimitBytes` of it. */
export const readBody: Effect.Effect<Uint8Array, HttpFailure, HttpServerRequest.HttpServerRequest | Settings> =
  Effect.gen(function* () {
    const req = yield* HttpServerRequest.HttpServerRequest
    const limit = (yield* Settings).bodyLimitBytes
    const tooLarge = new HttpFailure({
      status: 413,
      error: "request body too large",
      detail: `the limit is ${showLimit(limit)}`
    })
    const declared = Number(req.headers["content-length"] ?? "")
    if (Number.isFinite(declared) && declared > limit) return yield* tooLarge
    const bytes = yield* req.arrayBuffer.pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(limit)),
      Effect.mapError((e) =>
        e.reason._tag === "RequestParseError" && e.reason.reason === "BodyTooLarge"
          ? tooLarge
          : new HttpFailure({ status: 400, error: "the request body could not be read" })
      )
    )
    return new Uint8Array(bytes)
  })

const decoder = new TextDecoder("utf-8", { fatal: true })
const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const pathOf = (path: ReadonlyArray<unknown> | undefined): Array<string | number> =>
  (path ?? []).map((p) => {
    const key = typeof p === "object" && p !== null && "key" in p ? (p as { key: unknown }).key : p
    return typeof key === "number" ? key : String(key)
  })

/**
 * The body as JSON decoded by `schema`; an empty body is `{}` when `emptyIsObject` says so. Unknown
 * keys are refused unless `strict` is false (a typo in moor's own API must not be ignored silently;
 * GitHub's payloads carry much more than moor reads).
 */
export const decodeBody = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  bytes: Uint8Array,
  options: { readonly what: string; readonly emptyIsObject?: boolean; readonly strict?: boolean }
): Effect.Effect<S["Type"], HttpFailure> =>
  Effect.gen(function* () {
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch {
      return yield* fail(400, "malformed JSON", "the body is not valid UTF-8")
    }
    let value: unknown
    if (text.trim() === "" && options.emptyIsObject === true) value = {}
    else {
      try {
        value = JSON.parse(text)
      } catch (e) {
        return yield* fail(400, "malformed JSON", e instanceof Error ? e.message : String(e))
      }
    }
    const decoded = Schema.decodeUnknownResult(schema)(value, {
      errors: "all",
      onExcessProperty: options.strict === false ? "ignore" : "error"
    })
    if (decoded._tag === "Success") return decoded.success
    const issues = formatIssues(decoded.failure.issue).issues.map((i) => ({ path: pathOf(i.path), message: i.message }))
    return yield* fail(400, `invalid ${options.what}`, issues)
  })

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

const internalError = (route: string) => (cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    if (Cause.hasInterruptsOnly(cause)) return yield* Effect.interrupt
    yield* Effect.logError(`${route}: unexpected failure`, cause)
    return json(500, { error: "internal error", detail: "see the server's log" })
  })

/** Answers a failure as JSON, anything unexpected as 500, and counts the answer. */
export const answered = <R>(
  route: string,
  effect: Effect.Effect<Response.HttpServerResponse, HttpFailure, R>
): Effect.Effect<Response.HttpServerResponse, never, R | Metrics> =>
  effect.pipe(
    Effect.catchTag("HttpFailure", (f) => Effect.succeed(failureResponse(f))),
    Effect.catchCause(internalError(route)),
    Effect.tap((res) => Metrics.use((m) => m.recordRequest(route, res.status)))
  )

/**
 * One path and its methods; another method gets 405 with `Allow`. HEAD is answered as GET (the
 * server leaves the body out).
 */
export const resource = <R>(
  path: HttpRouter.PathInput,
  handlers: Partial<Record<Method, Effect.Effect<Response.HttpServerResponse, HttpFailure, R>>>
) => {
  const table = new Map(Object.entries(handlers))
  const allowed = [...table.keys()]
  return HttpRouter.add(
    "*",
    path,
    Effect.gen(function* () {
      const req = yield* HttpServerRequest.HttpServerRequest
      const method = req.method === "HEAD" ? "GET" : req.method
      const handler = table.get(method)
      return yield* answered(
        path,
        handler ??
          fail(405, "method not allowed", `${req.method} ${path}: use ${allowed.join(" or ")}`, {
            allow: [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : [])].join(", ")
          })
      )
    })
  )
}
