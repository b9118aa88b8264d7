/** What every step of planning shares: inputs, the action builder, readiness handles, per-app outcomes. */
import type { HashAlgorithms } from "../container-spec.ts"
import type { App } from "../model/desired.ts"
import type { FailedRollout, RestartRecord } from "../model/observed.ts"
import type { Policy } from "../model/policy.ts"
import type { ActionBuilder } from "./builder.ts"
import type { ServiceHandle } from "./ready.ts"
import type { HostView } from "./view.ts"

export interface AppOnHost {
  /** Why the app is left alone on this host, when it is. */
  readonly skipped?: string
  /** Its restart budget is spent: reported failed. */
  readonly exhausted?: boolean
  readonly specHash: string
}

export interface PlanContext {
  readonly scope: string
  /** Labels moor puts on everything it creates besides its scope and app (the spec's origin). */
  readonly originLabels: Readonly<Record<string, string>>
  /** Parts of the spec that could not be read (`file: why`): no app is taken for gone while there are any. */
  readonly unreadable: ReadonlyArray<string>
  readonly policy: Policy
  readonly now: number
  readonly hashAlgorithms: HashAlgorithms
  readonly builder: ActionBuilder
  readonly apps: ReadonlyMap<string, App>
  readonly placement: ReadonlyMap<string, ReadonlyArray<string>>
  readonly views: ReadonlyMap<string, HostView>
  /** Hosts that did not answer (or were not observed), with the reason. */
  readonly unknown: ReadonlyMap<string, string>
  /** `host/app/service` -> restarts moor made. */
  readonly restarts: ReadonlyMap<string, ReadonlyArray<RestartRecord>>
  /** `host|image` -> when moor last pulled it there. */
  readonly pulls: ReadonlyMap<string, number>
  /** When the pass started (pulls since then are this pass's). */
  readonly passStartedAt: number | undefined
  /** `host/app/service` -> the last failed replacement. */
  readonly failedRollouts: ReadonlyMap<string, FailedRollout>
  /** `host/app/service` -> readiness (see `handleOf`: quiet apps get theirs on demand). */
  readonly handles: Map<string, ServiceHandle>
  /** `host/app` -> a host's app where nothing changes: its handles are made only when asked for. */
  readonly quiet: Map<string, () => void>
  /** `host/app` -> outcome. */
  readonly appOnHost: Map<string, AppOnHost>
  readonly warnings: Array<string>
}

export const hostAppKey = (host: string, app: string): string => `${host}/${app}`
export const hostServiceKey = (host: string, app: string, service: string): string => `${host}/${app}/${service}`

/** The readiness of a service on a host, making it first for an app that had nothing to do there. */
export const handleOf = (ctx: PlanContext, host: string, app: string, service: string): ServiceHandle | undefined => {
  const key = hostServiceKey(host, app, service)
  const known = ctx.handles.get(key)
  if (known !== undefined) return known
  const make = ctx.quiet.get(hostAppKey(host, app))
  if (make === undefined) return undefined
  ctx.quiet.delete(hostAppKey(host, app))
  make()
  return ctx.handles.get(key)
}
