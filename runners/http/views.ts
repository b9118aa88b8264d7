/** The JSON shapes the routes answer with: runs, passes, the last pass. Times are ISO 8601 (UTC). */
import type { RunActionRecord, RunDetail } from "../../adapters/repo/records.ts"
import type { LastPass } from "./heartbeat.ts"
import type { PassStatus } from "./pass-queue.ts"

export const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())

const actionJson = (a: RunActionRecord) => ({
  id: a.actionId,
  kind: a.kind,
  host: a.host,
  app: a.app,
  service: a.service ?? null,
  reason: a.reason,
  outcome: a.outcome,
  error: a.error ?? null,
  startedAt: iso(a.startedAt),
  finishedAt: iso(a.finishedAt),
  durationMs: a.durationMs
})

const summaryOf = (text: string | undefined): unknown => {
  if (text === undefined) return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

export const runJson = (detail: RunDetail) => ({
  id: detail.run.id,
  status: detail.run.status,
  trigger: detail.run.trigger,
  scope: detail.run.scope,
  host: detail.run.host,
  startedAt: iso(detail.run.startedAt),
  finishedAt: iso(detail.run.finishedAt),
  plan: summaryOf(detail.run.planSummary),
  error: detail.run.error ?? null,
  actions: detail.actions.map(actionJson)
})

export const passJson = (status: PassStatus) => ({
  id: status.id,
  state: status.state,
  outcome: status.report?.outcome ?? null,
  requestedAt: iso(status.requestedAt),
  startedAt: iso(status.report?.startedAt),
  finishedAt: iso(status.report?.finishedAt),
  requests: status.requests,
  reasons: status.reasons,
  apps: status.all ? "all" : (status.report?.apps ?? status.apps),
  images: status.images,
  notes: status.report?.notes ?? [],
  runs: (status.report?.runs ?? []).map((r) => ({ id: r.id, host: r.host, status: r.status, error: r.error ?? null }))
})

/** The last pass for `/healthz`, which anyone may read: its outcome and runs, not its errors' text. */
export const lastPassJson = (pass: LastPass | undefined, now: number) =>
  pass === undefined
    ? null
    : {
        id: pass.passId,
        trigger: pass.trigger,
        outcome: pass.outcome,
        startedAt: iso(pass.startedAt),
        finishedAt: iso(pass.finishedAt),
        secondsAgo: Math.max(0, Math.round((now - pass.finishedAt) / 1000)),
        runs: pass.runs
      }
