/** docker-modem formats each request's options (the agent, and through it every socket) for a debug line. */
import { inspect } from "node:util"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { connect } from "../../adapters/docker/connection.ts"

describe("engine connection", () => {
  it("the agent formats in constant time: docker-modem inspects it on every request, debugging or not", () => {
    const conn = connect({ name: "local", endpoint: "unix:///var/run/docker.sock" })
    if (Result.isFailure(conn)) throw new Error(conn.failure)
    const agent = (conn.success.modem as unknown as { agent: object }).agent
    expect(inspect({ agent }, { showHidden: true, depth: null })).toBe("{ agent: HttpConnectAgent }")
  })
})
