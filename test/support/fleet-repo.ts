/**
 * Reading the shared repository (PostgreSQL, one schema per test file) behind the runners' backs:
 * the runs of a scope with their actions, and the app states per host.
 */
import { Effect } from "effect"
import { type AppStateRecord, Repo, type RunDetail } from "../../adapters/repo/Repo.ts"
import { uniqueSchema, urlWithSchema } from "./repo/pg.ts"

/** A repository URL of its own for a test file: `postgres://...?schema=moor_t_<random>_<n>`. */
export const freshPgRepo = (): string => urlWithSchema(uniqueSchema())

export const withRepo = <A, E>(url: string, f: (repo: Repo["Service"]) => Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(Repo.use(f).pipe(Effect.provide(Repo.layerFromUrl(url))))

/** Every run of the scope, oldest first, with its actions. */
export const runsWithActions = (url: string, scope: string): Promise<ReadonlyArray<RunDetail>> =>
  withRepo(url, (repo) =>
    Effect.gen(function* () {
      const runs = yield* repo.listRuns({ scope, limit: 10_000 })
      const details = yield* Effect.forEach(runs, (r) => repo.getRun(r.id))
      return details
        .filter((d): d is RunDetail => d !== undefined)
        .sort((x, y) => x.run.startedAt - y.run.startedAt || (x.run.id < y.run.id ? -1 : 1))
    })
  )

/** The app states the repo remembers on each host. */
export const appStatesOn = (
  url: string,
  scope: string,
  hosts: ReadonlyArray<string>
): Promise<Readonly<Record<string, ReadonlyArray<AppStateRecord>>>> =>
  withRepo(url, (repo) =>
    Effect.gen(function* () {
      const out: Record<string, ReadonlyArray<AppStateRecord>> = {}
      for (const host of hosts) out[host] = yield* repo.appStates(scope, host)
      return out
    })
  )

/** `app state` per host, for comparisons. */
export const stateLines = (states: Readonly<Record<string, ReadonlyArray<AppStateRecord>>>): ReadonlyArray<string> =>
  Object.entries(states).flatMap(([host, rows]) => rows.map((r) => `${host}/${r.app} ${r.state}`))
