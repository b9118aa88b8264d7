/**
 * Which buses to publish to, from `MOOR_BUS` (and `MOOR_BUS_WEBHOOK_URL`): a comma-separated list of
 *
 *   memory                          in-process PubSub (the default)
 *   none                            publish nowhere
 *   nats://host:port[,nats://...]   one NATS connection; consecutive nats:// entries are one cluster
 *   webhook+https://host/path       HTTP POST of each event (webhook+http:// too)
 *
 * A comma inside a webhook URL must be written %2C in MOOR_BUS (or use MOOR_BUS_WEBHOOK_URL).
 */
import { Config, Option, Result, type Redacted } from "effect"
import { maskUrls } from "../../core/redact.ts"

export type BusTarget =
  | { readonly kind: "memory" }
  | { readonly kind: "nats"; readonly servers: ReadonlyArray<string> }
  | { readonly kind: "webhook"; readonly url: string }

const usage =
  "use memory, none, nats://host:port or webhook+https://host/path, several separated by commas " +
  "(e.g. MOOR_BUS=memory,nats://127.0.0.1:4222)"

const parseUrl = (text: string): URL | undefined => {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

/** A URL as it may be logged: no user, no password, no query (tokens live there). */
export const safeUrl = (text: string): string => {
  const url = parseUrl(text)
  return url === undefined ? "<invalid url>" : `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`
}

/** An entry as it may appear in an error: credentials and query masked. */
const masked = (entry: string): string => maskUrls(entry).replace(/\?.*$/, "?...")

const natsServer = (entry: string): string | undefined => {
  const url = parseUrl(entry)
  if (url === undefined || url.protocol !== "nats:" || url.hostname === "") return undefined
  if (url.pathname !== "" && url.pathname !== "/") return undefined
  return entry
}

const webhookUrl = (entry: string): string | undefined => {
  const url = parseUrl(entry)
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "")
    return undefined
  return url.href
}

/**
 * The buses a `MOOR_BUS` value names, in order, or what is wrong with it. `source` names the
 * variable in the message.
 */
export const parseBusUrl = (value: string, source = "MOOR_BUS"): Result.Result<ReadonlyArray<BusTarget>, string> => {
  const targets: Array<BusTarget> = []
  let memory = false
  const entries = value.split(",").map((entry) => entry.trim())
  for (const [i, entry] of entries.entries()) {
    if (entry === "" || entry === "none") continue
    const where = `${source} entry ${i + 1} ("${masked(entry)}")`
    if (entry === "memory") {
      if (!memory) targets.push({ kind: "memory" })
      memory = true
    } else if (entry.startsWith("nats://")) {
      const server = natsServer(entry)
      if (server === undefined) return Result.fail(`${where} is not a NATS server URL: write nats://host:port`)
      const last = targets.at(-1)
      if (last?.kind === "nats" && entries[i - 1]?.startsWith("nats://")) {
        targets[targets.length - 1] = { kind: "nats", servers: [...last.servers, server] }
      } else targets.push({ kind: "nats", servers: [server] })
    } else if (entry.startsWith("webhook+")) {
      const url = webhookUrl(entry.slice("webhook+".length))
      if (url === undefined)
        return Result.fail(`${where} is not a webhook URL: write webhook+https://host/path or webhook+http://host/path`)
      targets.push({ kind: "webhook", url })
    } else return Result.fail(`${where} is not a bus: ${usage}`)
  }
  return Result.succeed(targets)
}

export interface BusSettings {
  /** The `MOOR_BUS` value (default `memory`). */
  readonly bus: string
  /** `MOOR_BUS_WEBHOOK_URL`: one more webhook, http(s)://..., added to the list. */
  readonly webhookUrl: Option.Option<string>
  /** `MOOR_BUS_WEBHOOK_SECRET`: the HMAC key of webhook signatures. */
  readonly webhookSecret: Option.Option<Redacted.Redacted<string>>
  /** `MOOR_BUS_TIMEOUT_MS`: how long one publish may take (default 2000). */
  readonly timeoutMs: number
}

/** The bus settings from the environment (or any ConfigProvider). */
export const BusSettings: Config.Config<BusSettings> = Config.all({
  bus: Config.String("MOOR_BUS").pipe(Config.withDefault("memory")),
  webhookUrl: Config.option(Config.String("MOOR_BUS_WEBHOOK_URL")),
  webhookSecret: Config.option(Config.Redacted("MOOR_BUS_WEBHOOK_SECRET")),
  timeoutMs: Config.Int("MOOR_BUS_TIMEOUT_MS").pipe(Config.withDefault(2000))
})

/** The buses the settings name: MOOR_BUS, then MOOR_BUS_WEBHOOK_URL (not split on commas). */
export const targetsOf = (settings: BusSettings): Result.Result<ReadonlyArray<BusTarget>, string> =>
  Result.flatMap(parseBusUrl(settings.bus), (targets) =>
    Option.match(settings.webhookUrl, {
      onNone: () => Result.succeed(targets),
      onSome: (raw) => {
        const url = webhookUrl(raw.startsWith("webhook+") ? raw.slice("webhook+".length) : raw)
        return url === undefined
          ? Result.fail(`MOOR_BUS_WEBHOOK_URL ("${masked(raw)}") is not a webhook URL: write https://host/path`)
          : Result.succeed([...targets, { kind: "webhook", url }])
      }
    })
  )
