/** Section 7, property tests at scale: the planner's properties with 10,000 cases each. */
import { afterAll } from "vitest"
import { numRuns } from "../support/arbitraries.ts"
import { summary } from "../support/gauntlet.ts"
import { planProperties } from "../support/plan-properties.ts"

const runs = Math.max(10_000, numRuns(10_000))
const t0 = Date.now()
planProperties(runs)
afterAll(() => summary(`properties 8 x ${runs} cases held (${Math.round((Date.now() - t0) / 1000)} s)`))
