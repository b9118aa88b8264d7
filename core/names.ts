/** moor's label namespace and the names it gives engine objects. */

export const Label = {
  scope: "moor.scope",
  app: "moor.app",
  service: "moor.service",
  hash: "moor.hash",
  hashVersion: "moor.hash.version",
  /** Per-field digests of the spec, so a recreate can say which fields changed. */
  fields: "moor.fields",
  /** The path of the spec an object was made from (not part of any hash). */
  spec: "moor.spec"
} as const

/** Labels in moor's namespace are moor's own: a spec may not set them. */
export const isMoorLabel = (key: string): boolean => key.startsWith("moor.")

export const containerName = (app: string, service: string): string => `${app}-${service}-1`
/** The name a start-first replacement runs under until the old container is gone. */
export const nextName = (name: string): string => `${name}-next`
/** The name a stop-first replacement parks the old container under, so it can come back on rollback. */
export const oldName = (name: string): string => `${name}-old`

export const networkName = (app: string, key: string, declared?: string): string => declared ?? `${app}_${key}`
export const volumeName = (app: string, key: string, declared?: string): string => declared ?? `${app}_${key}`

/** `redis` and `redis:latest` are the same image. */
export const normalizeImage = (image: string): string => {
  if (image.includes("@")) return image
  const slash = image.lastIndexOf("/")
  return image.indexOf(":", slash + 1) === -1 ? `${image}:latest` : image
}
