/**
 * The three-way sync of app states: what the spec wants on a host, what the engine shows (the
 * plan's app summaries), and what the repository remembers. Pure: returns the rows to insert,
 * update and delete, and the state transitions worth telling people about.
 *
 * - observed but not in the repo: inserted (the repo was behind the engine);
 * - in the repo with another state or spec hash than observed: updated;
 * - in the repo, neither desired nor observed: deleted (the repo was ahead: the app is gone);
 * - in the repo and desired but not observed: left alone (nothing new is known about it);
 * - engine unreachable: nothing changes, because nothing new is known about any app.
 *
 * Only rows of the given host are considered: an observed or remembered row that names another
 * host is ignored, so a sync can never delete another host's rows.
 */
import type { AppState } from "./model/plan.ts"

export interface AppStateRow {
  readonly app: string
  readonly state: AppState
  readonly specHash: string
  /** When present and not the host being synced, the row is ignored. */
  readonly host?: string | undefined
}

export interface AppStateTransition {
  readonly app: string
  /** Undefined when the app was not in the repo. */
  readonly from: AppState | undefined
  /** Undefined when the app leaves the repo. */
  readonly to: AppState | undefined
}

export interface AppStateSyncInput {
  readonly host: string
  /** Apps desired on this host. */
  readonly specApps: ReadonlyArray<string>
  /** From the plan's app summaries, or "unreachable" when the engine did not answer. */
  readonly observed: "unreachable" | ReadonlyArray<AppStateRow>
  /** What the repository holds for this host. */
  readonly repo: ReadonlyArray<AppStateRow>
}

export interface AppStateRowOut {
  readonly host: string
  readonly app: string
  readonly state: AppState
  readonly specHash: string
}

export interface AppStateDiff {
  readonly insert: ReadonlyArray<AppStateRowOut>
  readonly update: ReadonlyArray<AppStateRowOut>
  /** Apps whose rows go. */
  readonly delete: ReadonlyArray<string>
  /** Only real state changes (inserts, deletions, a different state); a spec hash change alone is an update, not a transition. Sorted by app. */
  readonly transitions: ReadonlyArray<AppStateTransition>
}

export const emptyAppStateDiff: AppStateDiff = { insert: [], update: [], delete: [], transitions: [] }

const byApp = <A extends { readonly app: string }>(a: A, b: A): number => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0)

const onHost = (host: string, rows: ReadonlyArray<AppStateRow>): Map<string, AppStateRow> => {
  const map = new Map<string, AppStateRow>()
  for (const row of rows) if (row.host === undefined || row.host === host) map.set(row.app, row)
  return map
}

export const syncAppStates = (input: AppStateSyncInput): AppStateDiff => {
  if (input.observed === "unreachable") return emptyAppStateDiff
  const { host } = input
  const observed = onHost(host, input.observed)
  const repo = onHost(host, input.repo)
  const desired = new Set(input.specApps)
  const insert: Array<AppStateRowOut> = []
  const update: Array<AppStateRowOut> = []
  const remove: Array<string> = []
  const transitions: Array<AppStateTransition> = []

  for (const [app, seen] of observed) {
    const row = { host, app, state: seen.state, specHash: seen.specHash }
    const known = repo.get(app)
    if (known === undefined) {
      insert.push(row)
      transitions.push({ app, from: undefined, to: seen.state })
    } else if (known.state !== seen.state || known.specHash !== seen.specHash) {
      update.push(row)
      if (known.state !== seen.state) transitions.push({ app, from: known.state, to: seen.state })
    }
  }
  for (const [app, known] of repo) {
    if (observed.has(app) || desired.has(app)) continue
    remove.push(app)
    transitions.push({ app, from: known.state, to: undefined })
  }
  return {
    insert: insert.sort(byApp),
    update: update.sort(byApp),
    delete: remove.sort(),
    transitions: transitions.sort(byApp)
  }
}
