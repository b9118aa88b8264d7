/** The loader's error when nothing can be loaded: the path is missing, moor.yaml is broken, no apps. */
import { Schema } from "effect"

export const SpecProblemSchema = Schema.Struct({
  file: Schema.String,
  line: Schema.optionalKey(Schema.Number),
  column: Schema.optionalKey(Schema.Number),
  path: Schema.optionalKey(Schema.String),
  message: Schema.String
})

export class SpecError extends Schema.TaggedError<SpecError>()("SpecError", {
  /** The spec path as given. */
  path: Schema.String,
  /** What is wrong and what to do, one line per problem (`file:line:col: key: message`). */
  message: Schema.String,
  problems: Schema.Array(SpecProblemSchema)
}) {}
