/**
 * `pull_policy`, per service and host: when moor pulls the image (missing, always once per pass,
 * refresh when its last pull there is too old), and when a missing image may not be pulled at all.
 */
import type { PlanContext } from "./context.ts"
import { formatDuration } from "./format.ts"
import type { PreparedService } from "./prepare.ts"
import type { HostView } from "./view.ts"

const pulledAt = (ctx: PlanContext, host: string, image: string): number | undefined =>
  ctx.pulls.get(`${host}|${image}`)

/** Why the service's image is pulled on this host in this plan, or undefined. */
export const pullReason = (ctx: PlanContext, view: HostView, ps: PreparedService): string | undefined => {
  const image = ps.config.image
  const present = view.imageId(image) !== undefined
  const policy = ps.service.pullPolicy ?? "missing"
  if (policy === "never" || policy === "build") return undefined
  if (!present) return "image not present"
  const last = pulledAt(ctx, view.host, image)
  if (policy === "always") {
    const thisPass = last !== undefined && ctx.passStartedAt !== undefined && last >= ctx.passStartedAt
    return thisPass ? undefined : "pull_policy: always"
  }
  if (policy === "refresh") {
    const every = ps.service.pullRefreshMs ?? 0
    if (last !== undefined && ctx.now - last < every) return undefined
    return `pull_policy: every ${formatDuration(every)} (${last === undefined ? "not pulled by moor yet" : `last pulled ${formatDuration(ctx.now - last)} ago`})`
  }
  return undefined
}

/** Why a service whose image is not on the host cannot get it there, or undefined. */
export const cannotPull = (view: HostView, ps: PreparedService): string | undefined => {
  const image = ps.config.image
  if (view.imageId(image) !== undefined) return undefined
  switch (ps.service.pullPolicy) {
    case "never":
      return `image ${image} is not on host ${view.host} and pull_policy is never: load it there, or change pull_policy`
    case "build":
      return `image ${image} is not on host ${view.host} and pull_policy is build: building images is not applied yet; build it on the host, or change pull_policy`
    default:
      return undefined
  }
}
