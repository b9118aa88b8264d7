/**
 * Resource limits: `deploy.resources` (limits cpus, memory, pids; reservations memory) and the legacy
 * service keys `cpus`, `mem_limit`, `mem_reservation`, `pids_limit`, to the model's `Resources`.
 */
import type { Resources } from "../../core/model/desired.ts"
import { type DeployReads, deployReaders } from "./compose-deploy.ts"
import { bytes, int, map, number, type Reader, readKeys, sorted } from "./reader.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

export interface ResourceRead {
  readonly value: number
  readonly node: YNode
  readonly path: string
}
export interface ResourceReads {
  cpus?: ResourceRead
  memory?: ResourceRead
  memoryReservation?: ResourceRead
  pids?: ResourceRead
}

const GENERIC_RESOURCES =
  "generic resources are a Swarm setting one engine cannot express: use deploy.resources.reservations.devices or devices"

export const readDeploy = (
  r: Reader,
  node: YNode,
  path: string,
  set: (k: keyof ResourceReads, v: number, n: YNode, p: string) => void,
  deploy: DeployReads,
  reservations: Readonly<Record<string, (e: YEntry, p: string) => void>> = {}
) => {
  const m = map(r, node, path)
  if (m === undefined) return
  readKeys(r, m, path, {
    prefix: "deploy.",
    read: {
      ...deployReaders(r, deploy),
      resources: (e, p) => {
        const res = map(r, e.value, p)
        if (res === undefined) return
        readKeys(r, res, p, {
          prefix: "deploy.resources.",
          read: {
            limits: (le, lp) => {
              const lim = map(r, le.value, lp)
              if (lim === undefined) return
              readKeys(r, lim, lp, {
                prefix: "deploy.resources.limits.",
                read: {
                  cpus: (x, xp) => {
                    const n = number(r, x.value, xp)
                    if (n !== undefined) set("cpus", n, x.value, xp)
                  },
                  memory: (x, xp) => {
                    const n = bytes(r, x.value, xp)
                    if (n !== undefined) set("memory", n, x.value, xp)
                  },
                  pids: (x, xp) => {
                    const n = int(r, x.value, xp)
                    if (n !== undefined) set("pids", n, x.value, xp)
                  }
                },
                unsupported: { generic_resources: GENERIC_RESOURCES }
              })
            },
            reservations: (re, rp) => {
              const resv = map(r, re.value, rp)
              if (resv === undefined) return
              readKeys(r, resv, rp, {
                prefix: "deploy.resources.reservations.",
                read: {
                  ...reservations,
                  memory: (x, xp) => {
                    const n = bytes(r, x.value, xp)
                    if (n !== undefined) set("memoryReservation", n, x.value, xp)
                  }
                },
                unsupported: {
                  cpus: "a CPU reservation is a Swarm setting one engine cannot express: use deploy.resources.limits.cpus, or cpu_shares to weigh CPU time",
                  generic_resources: GENERIC_RESOURCES
                }
              })
            }
          }
        })
      }
    }
  })
}

/** Zero or -1 mean "no limit" in Compose: such values are left out. */
export const resourcesOf = (r: Reader, res: ResourceReads): Resources | undefined => {
  const out: { -readonly [K in keyof Resources]: Resources[K] } = {}
  if (res.cpus !== undefined) {
    if (res.cpus.value < 0) r.problems.fail(res.cpus.node.pos, res.cpus.path, "cpus cannot be negative")
    else if (res.cpus.value > 0) out.cpus = res.cpus.value
  }
  if (res.memory !== undefined && res.memory.value > 0) out.memoryBytes = res.memory.value
  if (res.memoryReservation !== undefined && res.memoryReservation.value > 0) {
    out.memoryReservationBytes = res.memoryReservation.value
  }
  if (res.pids !== undefined && res.pids.value > 0) out.pids = res.pids.value
  return Object.keys(out).length === 0 ? undefined : (sorted(Object.entries(out)) as Resources)
}
