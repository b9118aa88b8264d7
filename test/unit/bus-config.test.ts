import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Option, Result } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { parseBusUrl, safeUrl, targetsOf } from "../../adapters/bus/config.ts"
import { natsConnectOptions } from "../../adapters/bus/nats.ts"

const ok = (value: string) => {
  const result = parseBusUrl(value)
  if (Result.isFailure(result)) throw new Error(result.failure)
  return result.success
}
const problem = (value: string) => {
  const result = parseBusUrl(value)
  if (Result.isSuccess(result)) throw new Error(`accepted: ${JSON.stringify(result.success)}`)
  return result.failure
}

describe("MOOR_BUS", () => {
  it("names one bus or several, in order", () => {
    assert.deepStrictEqual(ok("memory"), [{ kind: "memory" }])
    assert.deepStrictEqual(ok("none"), [])
    assert.deepStrictEqual(ok(""), [])
    assert.deepStrictEqual(ok("memory,nats://127.0.0.1:4222, webhook+https://hooks.example.com/moor"), [
      { kind: "memory" },
      { kind: "nats", servers: ["nats://127.0.0.1:4222"] },
      { kind: "webhook", url: "https://hooks.example.com/moor" }
    ])
  })

  it("joins consecutive nats:// entries into one cluster, and only those", () => {
    assert.deepStrictEqual(ok("nats://a:4222,nats://b:4222,memory,nats://c:4222"), [
      { kind: "nats", servers: ["nats://a:4222", "nats://b:4222"] },
      { kind: "memory" },
      { kind: "nats", servers: ["nats://c:4222"] }
    ])
  })

  it("says which entry is wrong and what to write instead", () => {
    assert.strictEqual(
      problem("memory,kafka://broker:9092"),
      'MOOR_BUS entry 2 ("kafka://broker:9092") is not a bus: use memory, none, nats://host:port or ' +
        "webhook+https://host/path, several separated by commas (e.g. MOOR_BUS=memory,nats://127.0.0.1:4222)"
    )
    assert.include(problem("nats://"), "is not a NATS server URL: write nats://host:port")
    assert.include(problem("webhook+ftp://x/y"), "is not a webhook URL: write webhook+https://host/path")
    assert.include(problem("https://hooks.example.com/x"), "is not a bus")
  })

  it("never repeats credentials or a query string in an error", () => {
    const message = problem("webhook+gopher://user:pa55@host/p?token=t0k3n")
    assert.notInclude(message, "pa55")
    assert.notInclude(message, "t0k3n")
    assert.strictEqual(
      safeUrl("https://user:pa55@hooks.example.com/moor?token=t0k3n"),
      "https://hooks.example.com/moor"
    )
  })

  it("MOOR_BUS_WEBHOOK_URL adds one webhook, commas and all", () => {
    const targets = targetsOf({
      bus: "memory",
      webhookUrl: Option.some("https://hooks.example.com/a,b"),
      webhookSecret: Option.none(),
      timeoutMs: 2000
    })
    assert.deepStrictEqual(Result.getOrThrow(targets), [
      { kind: "memory" },
      { kind: "webhook", url: "https://hooks.example.com/a,b" }
    ])
  })

  it("takes NATS credentials out of the URLs into the client's options", () => {
    assert.deepStrictEqual(natsConnectOptions(["nats://a:4222", "nats://moor:p%40ss@b:4222"]), {
      servers: ["nats://a:4222", "nats://b:4222"],
      user: "moor",
      pass: "p@ss"
    })
    assert.deepStrictEqual(natsConnectOptions(["nats://s3cr3t-token@a:4222"]), {
      servers: ["nats://a:4222"],
      token: "s3cr3t-token"
    })
    assert.deepStrictEqual(natsConnectOptions(["nats://a"]), { servers: ["nats://a"] })
  })

  it.live("an invalid MOOR_BUS fails the layer with the reason; an unset one means memory", () =>
    Effect.gen(function* () {
      const env = (record: Record<string, string>) =>
        Bus.layerFromEnv.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(record))))
      const error = yield* Effect.flip(Effect.provide(Bus, env({ MOOR_BUS: "memroy" })))
      assert.strictEqual(error.reason, "config")
      assert.include(error.message, 'MOOR_BUS entry 1 ("memroy") is not a bus')
      const timeout = yield* Effect.flip(Effect.provide(Bus, env({ MOOR_BUS_TIMEOUT_MS: "soon" })))
      assert.include(timeout.message, "MOOR_BUS_TIMEOUT_MS")
      const zero = yield* Effect.flip(Effect.provide(Bus, env({ MOOR_BUS_TIMEOUT_MS: "0" })))
      assert.strictEqual(zero.message, "MOOR_BUS_TIMEOUT_MS must be a positive number of milliseconds, not 0")
      const bus = yield* Effect.provide(Bus, env({}))
      assert.deepStrictEqual(bus.targets, ["memory"])
    })
  )
})
