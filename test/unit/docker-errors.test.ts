/** The engine's HTTP answers, translated once into DockerError kinds that decide retries. */
import { describe, expect, it } from "vitest"
import { isRetryable } from "../../adapters/docker/Docker.ts"
import { kindOfStatus } from "../../adapters/docker/translate-error.ts"

describe("engine error kinds", () => {
  it.each([
    [404, "No such container: x", "not-found"],
    [409, "Conflict. The container name is already in use", "conflict"],
    [403, "error while removing network: network n has active endpoints", "conflict"],
    [
      500,
      "driver failed programming external connectivity: Bind for 0.0.0.0:18080 failed: port is already allocated",
      "rejected"
    ],
    [500, "Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io: no such host", "transient"],
    [503, "engine busy", "transient"],
    [400, "invalid reference format", "rejected"]
  ] as const)("HTTP %i %s -> %s", (status, message, kind) => {
    expect(kindOfStatus(status, message)).toBe(kind)
  })
  it("a port held by another container is not retried: only time or a person frees it", () => {
    expect(
      isRetryable({ kind: kindOfStatus(500, "port is already allocated") } as Parameters<typeof isRetryable>[0])
    ).toBe(false)
  })
})
