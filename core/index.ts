/** moor's pure core: plain data in, plain data out. */
export * from "./model/desired.ts"
export * from "./model/observed.ts"
export * from "./model/options.ts"
export * from "./model/plan.ts"
export * from "./model/policy.ts"
export {
  decodeDesired,
  decodeObserved,
  decodePlan,
  decodePolicy,
  encodePlan,
  type DecodeError,
  validateApp
} from "./decode.ts"
export { plan, type PlanOptions } from "./plan/plan.ts"
export { describe, actionLine, countActions, hasChanges, summaryLine } from "./describe.ts"
export { containerConfig, defaultHashAlgorithms, HASH_VERSION, type HashAlgorithms } from "./container-spec.ts"
export { Label, containerName } from "./names.ts"
export { formatDuration } from "./plan/format.ts"
