/**
 * Options of a container's mounts and network attachments that older engines cannot express, with
 * the engine API version each needs (Docker 20.10 speaks 1.41, 25.0 1.44, 26.0 1.45, 28.0 1.48,
 * 28.1 1.49). An older engine ignores such a field silently, so the plan must refuse it first.
 * Keys are field names of `ContainerConfig["mounts"][number]` and `ContainerConfig["networks"][number]`
 * (../model/plan.ts); `compose` names the key as a person wrote it, for the message.
 */

export interface MinApi {
  /** The Compose key, for messages. */
  readonly compose: string
  /** The lowest engine API version that honours the field, "MAJOR.MINOR". */
  readonly api: string
}

/** Mount fields (set: the field is present on a mount). */
export const MOUNT_MIN_API: Readonly<Record<string, MinApi>> = {
  subpath: { compose: "volume.subpath", api: "1.45" }
}

/**
 * Network attachment fields (set: the field is present on an attachment). `macAddress` counts only on
 * a network that is not the container's first (primary) one: older engines take the primary's MAC
 * address from the container-wide field, which moor sets too.
 */
export const ENDPOINT_MIN_API: Readonly<Record<string, MinApi>> = {
  macAddress: { compose: "networks.<name>.mac_address (on a network other than the first)", api: "1.44" },
  gwPriority: { compose: "networks.<name>.gw_priority", api: "1.48" },
  interfaceName: { compose: "networks.<name>.interface_name", api: "1.49" }
}
