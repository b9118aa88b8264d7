/**
 * A declared network as moor asks the engine for it, and how a network that exists already differs
 * from its declaration. moor never recreates a network (that would detach every container on it,
 * its own and others'): a difference becomes a warning in the plan saying what to do.
 */
import type { App, Network } from "../model/desired.ts"
import { networkName } from "../names.ts"
import type { ObservedNetwork } from "../model/observed.ts"
import type { ActionOf } from "../model/plan.ts"
import type { HostView } from "./view.ts"

type NetworkSpec = ActionOf<"ensure-network">["network"]

/** The body of an `ensure-network` action for the engine network `name`. */
export const networkSpec = (
  name: string,
  declared: Network | undefined,
  labels: Readonly<Record<string, string>>
): NetworkSpec => ({
  name,
  ...(declared?.driver === undefined ? {} : { driver: declared.driver }),
  ...(declared?.driverOpts === undefined ? {} : { driverOpts: declared.driverOpts }),
  ...(declared?.ipam === undefined ? {} : { ipam: declared.ipam }),
  ...(declared?.internal === undefined ? {} : { internal: declared.internal }),
  ...(declared?.attachable === undefined ? {} : { attachable: declared.attachable }),
  ...(declared?.enableIpv6 === undefined ? {} : { enableIpv6: declared.enableIpv6 }),
  labels: { ...(declared?.labels ?? {}), ...labels }
})

const show = (v: unknown): string => (v === undefined || v === "" ? "(none)" : String(v))

/** What differs, as `setting observed -> declared`; only what the observation reports is compared. */
const differences = (declared: Network, observed: ObservedNetwork): Array<string> => {
  const out: Array<string> = []
  const compare = (what: string, want: unknown, have: unknown) => {
    if (have !== undefined && want !== have) out.push(`${what} ${show(have)} -> ${show(want)}`)
  }
  compare("driver", declared.driver ?? "bridge", observed.driver)
  compare("internal", declared.internal ?? false, observed.internal)
  compare("attachable", declared.attachable ?? false, observed.attachable)
  compare("enable_ipv6", declared.enableIpv6 ?? false, observed.enableIpv6)
  if (observed.options !== undefined) {
    for (const [key, value] of Object.entries(declared.driverOpts ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
      compare(`driver_opts ${key}`, value, observed.options[key] ?? "")
  }
  const ipam = declared.ipam
  if (ipam !== undefined && observed.ipam !== undefined) {
    compare("ipam driver", ipam.driver ?? "default", observed.ipam.driver)
    for (const pool of ipam.config ?? []) {
      const have = observed.ipam.config?.find((p) => p.subnet === pool.subnet)
      if (have === undefined) {
        out.push(`ipam subnet ${pool.subnet ?? "(any)"} missing`)
        continue
      }
      if (pool.gateway !== undefined) compare(`ipam gateway of ${pool.subnet}`, pool.gateway, have.gateway ?? "")
      if (pool.ipRange !== undefined) compare(`ipam ip_range of ${pool.subnet}`, pool.ipRange, have.ipRange ?? "")
    }
  }
  return out
}

/**
 * One warning per declared network of `app` that exists on the host with other settings than
 * declared. External networks are not moor's to compare.
 */
export const networkWarnings = (app: App, view: HostView): Array<string> => {
  const out: Array<string> = []
  for (const [key, declared] of Object.entries(app.networks ?? {})) {
    if (declared.external === true) continue
    const name = networkName(app.name, key, declared.name)
    const observed = view.networks.get(name)
    if (observed === undefined) continue
    const diff = differences(declared, observed)
    if (diff.length === 0) continue
    out.push(
      `network ${name} on host ${view.host} differs from the spec of ${app.name} (${diff.join(", ")}): moor does not recreate a network, which would detach every container on it; to apply the spec, remove the network when no container uses it (moor down ${app.name} removes the app's containers and networks) and apply again`
    )
  }
  return out
}
