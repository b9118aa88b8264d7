/** What happened to each action of a plan. */
import type { Action } from "../../core/model/plan.ts"

export type Outcome = "done" | "failed" | "skipped"

export interface ActionResult {
  readonly action: Action
  readonly outcome: Outcome
  /** Why it failed or was skipped. */
  readonly error?: string
  /** A hook's output (the last few KiB). */
  readonly output?: string
  /** Epoch ms. */
  readonly startedAt: number
  readonly durationMs: number
}

export const MAX_OUTPUT = 4096

export const lastBytes = (text: string, max = MAX_OUTPUT): string =>
  text.length <= max ? text : `...${text.slice(text.length - max)}`
