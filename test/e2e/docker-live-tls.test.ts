/**
 * The live adapter over TCP with mutual TLS, against engine B (`npm run setup -- engine-b`, which
 * `npm test` runs). Engine B not answering fails the file with what to run; it is never skipped.
 */
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { engineFromEnv } from "../../adapters/docker/endpoint.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { engineB, requireServers } from "../support/env.ts"

beforeAll(() => requireServers("engine-b-tls"))

const cert = (f: string) => join(engineB.certPath, f)
const endpoint = engineB.tls.DOCKER_HOST

const withDocker = <A, E>(
  layer: ReturnType<typeof DockerLive.layer>,
  f: (d: Docker["Service"]) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const docker = yield* Docker
    return yield* f(docker)
  }).pipe(Effect.provide(layer))

describe("DockerLive over tcp:// with mutual TLS (engine B)", () => {
  it.live("talks to the engine with the client certificate, as configured or from DOCKER_* variables", () =>
    Effect.gen(function* () {
      const configured = DockerLive.layer([
        { name: "b", endpoint, tls: { ca: cert("ca.pem"), cert: cert("cert.pem"), key: cert("key.pem") } }
      ])
      yield* withDocker(configured, (d) => d.ping("b"))
      const seen = yield* withDocker(configured, (d) => d.observe("b", "test-tls"))
      expect(seen._tag).toBe("Known")

      const fromEnv = engineFromEnv("b", engineB.tls)
      expect(fromEnv).toEqual({
        name: "b",
        endpoint,
        tls: { ca: cert("ca.pem"), cert: cert("cert.pem"), key: cert("key.pem"), verify: true }
      })
      yield* withDocker(DockerLive.layer([fromEnv]), (d) => d.ping("b"))
    })
  )

  it.live("a failed TLS handshake is unreachable, reported within seconds", () =>
    Effect.gen(function* () {
      // No client certificate: the engine refuses the handshake.
      const t0 = Date.now()
      const noCert = yield* withDocker(DockerLive.layer([{ name: "b", endpoint, tls: { ca: cert("ca.pem") } }]), (d) =>
        Effect.result(d.ping("b"))
      )
      expect(Date.now() - t0).toBeLessThan(4_000)
      if (Result.isSuccess(noCert)) throw new Error("expected the handshake to fail")
      expect(noCert.failure.kind).toBe("unreachable")
      expect(noCert.failure.message).toContain(endpoint)

      // The engine's certificate checked against the wrong CA.
      const wrongCa = yield* withDocker(
        DockerLive.layer([
          { name: "b", endpoint, tls: { ca: cert("cert.pem"), cert: cert("cert.pem"), key: cert("key.pem") } }
        ]),
        (d) => Effect.result(d.ping("b"))
      )
      if (Result.isSuccess(wrongCa)) throw new Error("expected the certificate check to fail")
      expect(wrongCa.failure.kind).toBe("unreachable")
      expect(wrongCa.failure.message).toMatch(/TLS failed/)

      const observed = yield* withDocker(
        DockerLive.layer([{ name: "b", endpoint, tls: { ca: cert("ca.pem") } }]),
        (d) => d.observe("b", "test-tls")
      )
      expect(observed._tag).toBe("Unreachable")
    })
  )
})
