/** moor's label namespace and the names it gives engine objects. */
import type { App } from "./model/desired.ts"

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

export const containerName = (app: string, service: string, replica = 1): string => `${app}-${service}-${replica}`

/**
 * The engine name of a service's container number `replica` (from 1): the spec's `container_name`
 * when it sets one (a service with a fixed name has one replica), else `<app>-<service>-<replica>`.
 */
export const serviceContainerName = (app: App, service: string, replica = 1): string =>
  app.services[service]?.containerName ?? containerName(app.name, service, replica)
/** The name a start-first replacement runs under until the old container is gone. */
export const nextName = (name: string): string => `${name}-next`
/** The name a stop-first replacement parks the old container under, so it can come back on rollback. */
export const oldName = (name: string): string => `${name}-old`

export const networkName = (app: string, key: string, declared?: string): string => declared ?? `${app}_${key}`
export const volumeName = (app: string, key: string, declared?: string): string => declared ?? `${app}_${key}`

/**
 * How an engine lists an image a spec names: without Docker Hub's `docker.io/` (and `library/`), and,
 * for `name:tag@sha256:...`, by its digest (`name@sha256:...`). `redis`, `redis:latest` and
 * `docker.io/library/redis:latest` are one image.
 */
export const imageKey = (ref: string): string => {
  let r = ref
  for (const hub of ["docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"])
    if (r.startsWith(hub)) {
      r = r.slice(hub.length)
      break
    }
  const at = r.indexOf("@")
  if (at !== -1) {
    const name = r.slice(0, at)
    const slash = name.lastIndexOf("/")
    const colon = name.indexOf(":", slash + 1)
    return `${colon === -1 ? name : name.slice(0, colon)}${r.slice(at)}`
  }
  return normalizeImage(r)
}

/** `redis` and `redis:latest` are the same image. */
export const normalizeImage = (image: string): string => {
  if (image.includes("@")) return image
  const slash = image.lastIndexOf("/")
  return image.indexOf(":", slash + 1) === -1 ? `${image}:latest` : image
}
