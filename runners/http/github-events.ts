/**
 * The parts of GitHub's webhook payloads moor reads (everything else in them is ignored), and what
 * they mean for it: which push updates the spec, which image a published package is.
 */
import { Schema } from "effect"
import { isValidImageRef } from "./images.ts"

export const PingPayload = Schema.Struct({
  zen: Schema.optionalKey(Schema.String),
  hook_id: Schema.optionalKey(Schema.Number)
})

export const PushPayload = Schema.Struct({
  ref: Schema.String,
  after: Schema.optionalKey(Schema.String),
  deleted: Schema.optionalKey(Schema.Boolean),
  repository: Schema.Struct({ full_name: Schema.String })
})
export type PushPayload = typeof PushPayload.Type

const PackageVersion = Schema.Struct({
  version: Schema.String,
  package_url: Schema.optionalKey(Schema.NullOr(Schema.String)),
  container_metadata: Schema.optionalKey(
    Schema.NullOr(
      Schema.Struct({
        tag: Schema.optionalKey(
          Schema.NullOr(
            Schema.Struct({ name: Schema.String, digest: Schema.optionalKey(Schema.NullOr(Schema.String)) })
          )
        )
      })
    )
  )
})

const Package = Schema.Struct({
  name: Schema.String,
  package_type: Schema.String,
  owner: Schema.Struct({ login: Schema.String }),
  package_version: Schema.NullOr(PackageVersion)
})
export type Package = typeof Package.Type

/** The `package` event (`registry_package` carries the same under another key). */
export const PackagePayload = Schema.Struct({ action: Schema.String, package: Package })
export const RegistryPackagePayload = Schema.Struct({ action: Schema.String, registry_package: Package })

export type PushDecision =
  { readonly act: true; readonly commit: string } | { readonly act: false; readonly reason: string }

/** A push acts only on the configured repository's configured branch (GitHub names ignore case). */
export const pushDecision = (push: PushPayload, repository: string | undefined, branch: string): PushDecision => {
  if (repository === undefined)
    return { act: false, reason: "no repository is configured (MOOR_GITHUB_REPOSITORY): pushes are not acted on" }
  if (push.repository.full_name.toLowerCase() !== repository.toLowerCase())
    return { act: false, reason: `push to ${push.repository.full_name}, not ${repository}` }
  if (push.ref !== `refs/heads/${branch}`)
    return { act: false, reason: `push to ${push.ref}, not refs/heads/${branch}` }
  if (push.deleted === true) return { act: false, reason: `${push.ref} was deleted` }
  return { act: true, commit: push.after ?? "" }
}

export type PackageDecision = { readonly image: string } | { readonly ignored: string }

/** The repository part of an image reference in lower case (registries want it so); the tag as is. */
const lowerRepository = (ref: string): string => {
  const colon = ref.lastIndexOf(":")
  const slash = ref.lastIndexOf("/")
  return colon > slash ? `${ref.slice(0, colon).toLowerCase()}${ref.slice(colon)}` : ref.toLowerCase()
}

const withoutTag = (ref: string): string => {
  const colon = ref.lastIndexOf(":")
  return colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref
}

/**
 * The image a published container package is: `package_url` when GitHub gives it, otherwise
 * `ghcr.io/<owner>/<name>:<tag>`. A version without a tag (pushed by digest only) names no image a
 * service can run by tag.
 */
export const publishedImage = (pkg: Package): PackageDecision => {
  const version = pkg.package_version
  const metadata = version?.container_metadata ?? undefined
  const isContainer = metadata !== undefined || /^(container|docker)$/i.test(pkg.package_type)
  if (!isContainer || version === null) return { ignored: `not a container image (package type ${pkg.package_type})` }
  const tag = metadata?.tag?.name ?? ""
  if (tag === "")
    return {
      ignored: `${pkg.name} ${version.version} was published without a tag (by digest only): services run images by tag`
    }
  const url = withoutTag((version.package_url ?? "").trim())
  const image = lowerRepository(`${url === "" ? `ghcr.io/${pkg.owner.login}/${pkg.name}` : url}:${tag}`)
  return isValidImageRef(image) ? { image } : { ignored: `the published image "${image}" is not a valid reference` }
}
