/**
 * A network's settings as the engines report them: the list entry of a real engine is read into the
 * observed model, and the in-memory engine reports a network as it was created, so a network made
 * from a declaration compares equal to it on the next plan.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Docker } from "../../adapters/docker/Docker.ts"
import { DockerMemory } from "../../adapters/docker/memory.ts"
import { networkFromList } from "../../adapters/docker/parse-engine.ts"
import type { Network } from "../../core/model/desired.ts"
import { plan } from "../../core/plan/plan.ts"
import { app, desired, observedOf, policy, svc } from "../support/core-fixtures.ts"

/** `GET /networks` on Docker 20.10 for `docker network create --attachable --ipv6 --subnet ... -o ...`. */
const listed = {
  Name: "probe",
  Id: "17337416302a",
  Created: "2026-12-02T08:13:28.957041067Z",
  Scope: "local",
  Driver: "bridge",
  EnableIPv6: true,
  IPAM: {
    Driver: "default",
    Options: {},
    Config: [{ Subnet: "172.31.77.0/24", Gateway: "172.31.77.1" }, { Subnet: "fd00:77::/64" }]
  },
  Internal: false,
  Attachable: true,
  Ingress: false,
  ConfigFrom: { Network: "" },
  ConfigOnly: false,
  Containers: {},
  Options: { "com.docker.network.bridge.enable_icc": "true" },
  Labels: { "moor.scope": "probe" }
}

describe("observed networks", () => {
  it("reads the settings of a network from the engine's list", () => {
    expect(networkFromList(listed)).toEqual({
      name: "probe",
      id: "17337416302a",
      labels: { "moor.scope": "probe" },
      driver: "bridge",
      internal: false,
      attachable: true,
      enableIpv6: true,
      options: { "com.docker.network.bridge.enable_icc": "true" },
      ipam: {
        driver: "default",
        config: [{ subnet: "172.31.77.0/24", gateway: "172.31.77.1" }, { subnet: "fd00:77::/64" }]
      }
    })
  })

  it("an entry without settings (an older or partial answer) reads as unknown settings, not as defaults", () => {
    expect(networkFromList({ Name: "n", Id: "1", Labels: null })).toEqual({ name: "n", id: "1", labels: {} })
  })

  it.effect("the in-memory engine reports a network as created, so its declaration finds no difference", () =>
    Effect.gen(function* () {
      const back: Network = {
        driverOpts: { "com.docker.network.bridge.enable_icc": "true" },
        ipam: { config: [{ subnet: "172.31.9.0/24", gateway: "172.31.9.1" }] },
        attachable: true,
        enableIpv6: true
      }
      const d = desired([
        app("shop", { web: svc("moor-fixture/app:1", { networks: { back: {} } }) }, { networks: { back } })
      ])
      const docker = yield* Docker
      const first = plan(d, observedOf([yield* docker.observe("local", "test")]), policy())
      const ensure = first.actions.find((a) => a._tag === "ensure-network")
      if (ensure?._tag !== "ensure-network") throw new Error("no ensure-network")
      yield* docker.createNetwork("local", ensure.network)
      const host = yield* docker.observe("local", "test")
      if (host._tag !== "Known") throw new Error("unreachable")
      expect(host.networks.find((n) => n.name === "shop_back")).toMatchObject({
        driver: "bridge",
        attachable: true,
        enableIpv6: true,
        options: back.driverOpts,
        ipam: { config: [{ subnet: "172.31.9.0/24", gateway: "172.31.9.1" }] }
      })
      expect(plan(d, observedOf([host]), policy()).warnings).toEqual([])
      const changed = desired([
        app(
          "shop",
          { web: svc("moor-fixture/app:1", { networks: { back: {} } }) },
          {
            networks: { back: { ...back, attachable: false } }
          }
        )
      ])
      expect(plan(changed, observedOf([host]), policy()).warnings).toEqual([
        expect.stringContaining(
          "network shop_back on host local differs from the spec of shop (attachable true -> false)"
        )
      ])
    }).pipe(Effect.provide(DockerMemory.layer({ hosts: ["local"] })))
  )
})
