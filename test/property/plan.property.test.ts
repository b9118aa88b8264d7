/** The planner's properties over random desired/observed pairs (150 cases each, or MOOR_PROPERTY_RUNS). */
import { numRuns } from "../support/arbitraries.ts"
import { planProperties } from "../support/plan-properties.ts"

planProperties(numRuns(150))
