/** Image references as the image hooks accept them: `[registry[:port]/]path[:tag][@digest]`. */
import { Schema } from "effect"

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
const REGISTRY =
  "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)"
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
const DIGEST = "[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}"
const REFERENCE = new RegExp(`^${REGISTRY}?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`)

export const isValidImageRef = (ref: string): boolean => ref.length <= 512 && REFERENCE.test(ref)

export const ImageRef = Schema.String.check(
  Schema.makeFilter(
    (s: string) =>
      isValidImageRef(s) ||
      "an image reference like registry.example.com/team/app:1.2 (lower-case repository, optional tag)"
  )
)

/** The body of `POST /v1/hooks/image`. */
export const ImageHookBody = Schema.Struct({ image: ImageRef })
