/** From a loaded spec to the core's decoded desired state. */
import { Result } from "effect"
import { type DecodeError, decodeDesired } from "../../core/decode.ts"
import type { DesiredState } from "../../core/model/desired.ts"
import { formatProblem } from "./problems.ts"
import type { LoadedSpec } from "./spec-types.ts"

/**
 * Runs core's `decodeDesired` on the loaded input and adds the apps the loader already found
 * invalid, so they are planned as skips with their messages; the parts it could not read, so no
 * app is taken for gone; and the spec's origin. Each app carries `source: { file, line }`.
 */
export const toDesiredState = (loaded: LoadedSpec): Result.Result<DesiredState, DecodeError> =>
  Result.map(decodeDesired(loaded.input), (state) => ({
    ...state,
    invalid: [...state.invalid, ...loaded.invalid].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    unreadable: loaded.unreadable.map(formatProblem),
    origin: { path: loaded.path, scopeFromFolder: loaded.scopeFromFolder }
  }))
