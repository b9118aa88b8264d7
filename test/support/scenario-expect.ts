/**
 * A pass's expectations against what was observed around it. Pure and engine-independent: ids,
 * names, states, images and app states only. Returns one sentence per mismatch (none: as expected).
 */
import type { AppStateRecord } from "../../adapters/repo/records.ts"
import { passiveKinds } from "../../core/model/plan.ts"
import type { PassResult } from "../../runners/pass/pass.ts"
import { type ContainerView, HOST } from "./scenario-engine.ts"
import type { Expect } from "./scenario-format.ts"

export interface PassObservation {
  readonly result: PassResult
  /** The scope's containers and the scenario's foreign ones, just before and just after the pass. */
  readonly before: ReadonlyArray<ContainerView>
  readonly after: ReadonlyArray<ContainerView>
  readonly repoBefore: ReadonlyArray<AppStateRecord>
  readonly repoAfter: ReadonlyArray<AppStateRecord>
  /** The scope's volumes after the pass. */
  readonly volumes: ReadonlyArray<string>
  /** The scope's container names (the rest of `after` are foreign). */
  readonly managed: ReadonlySet<string>
}

const sorted = (xs: ReadonlyArray<string>): Array<string> => [...xs].sort()

const show = (xs: ReadonlyArray<string>): string => (xs.length === 0 ? "(none)" : xs.join(", "))

/** `<id> <outcome>` of every result whose kind changes the engine. */
export const changingActions = (result: PassResult): Array<string> =>
  result.results.filter((r) => !passiveKinds.has(r.action._tag)).map((r) => `${r.action.id} ${r.outcome}`)

export const passiveActions = (result: PassResult): Array<string> =>
  result.results.filter((r) => passiveKinds.has(r.action._tag)).map((r) => `${r.action.id} ${r.outcome}`)

const diffLists = (what: string, expected: ReadonlyArray<string>, actual: ReadonlyArray<string>): Array<string> => {
  const rest = [...actual]
  const missing: Array<string> = []
  for (const e of expected) {
    const i = rest.indexOf(e)
    if (i === -1) missing.push(e)
    else rest.splice(i, 1)
  }
  if (missing.length === 0 && rest.length === 0) return []
  return [`${what}: missing ${show(missing)}; unexpected ${show(rest)}`]
}

const byName = (xs: ReadonlyArray<ContainerView>): Map<string, ContainerView> => new Map(xs.map((c) => [c.name, c]))

const describeContainer = (c: ContainerView): string =>
  `${c.state}${c.exitCode === undefined ? "" : ` (${c.exitCode})`} ${c.health} ${c.image} ${c.id.slice(0, 12)}`

const checkContainers = (expect: Expect, o: PassObservation): Array<string> => {
  const out: Array<string> = []
  const before = byName(o.before)
  const after = byName(o.after)
  if (expect.containers !== undefined) {
    const managedAfter = o.after.filter((c) => o.managed.has(c.name)).map((c) => c.name)
    out.push(...diffLists("containers", sorted(Object.keys(expect.containers)), sorted(managedAfter)))
    for (const [name, want] of Object.entries(expect.containers)) {
      const c = after.get(name)
      if (c === undefined) continue
      const wrong: Array<string> = []
      if (c.state !== want.state) wrong.push(`state ${c.state}, expected ${want.state}`)
      if (want.image !== undefined && c.image !== want.image) wrong.push(`image ${c.image}, expected ${want.image}`)
      if (want.health !== undefined && c.health !== want.health)
        wrong.push(`health ${c.health}, expected ${want.health}`)
      if (want.exitCode !== undefined && c.exitCode !== want.exitCode)
        wrong.push(`exit code ${c.exitCode ?? "(none)"}, expected ${want.exitCode}`)
      if (wrong.length > 0) out.push(`container ${name}: ${wrong.join("; ")}`)
    }
  }
  const pair = (name: string, what: string): [ContainerView, ContainerView] | undefined => {
    const b = before.get(name)
    const a = after.get(name)
    if (b === undefined) out.push(`${what} ${name}: there was no such container before the pass`)
    else if (a === undefined) out.push(`${what} ${name}: it is gone after the pass`)
    else return [b, a]
    return undefined
  }
  for (const name of expect.kept ?? []) {
    const p = pair(name, "kept")
    if (p !== undefined && p[0].id !== p[1].id)
      out.push(`kept ${name}: it was replaced (${p[0].id.slice(0, 12)} -> ${p[1].id.slice(0, 12)})`)
  }
  for (const name of expect.replaced ?? []) {
    const p = pair(name, "replaced")
    if (p !== undefined && p[0].id === p[1].id)
      out.push(`replaced ${name}: it still has its old id ${p[0].id.slice(0, 12)}`)
  }
  const untouched = expect.untouched === "all" ? [...before.keys()] : (expect.untouched ?? [])
  if (expect.untouched === "all")
    out.push(...diffLists("containers (untouched: all)", sorted([...before.keys()]), sorted([...after.keys()])))
  for (const name of untouched) {
    const p = pair(name, "untouched")
    if (p === undefined) continue
    const [b, a] = p
    if (b.id !== a.id || b.state !== a.state || b.startedAt !== a.startedAt)
      out.push(
        `untouched ${name}: was ${describeContainer(b)} started ${b.startedAt}, now ${describeContainer(a)} started ${a.startedAt}`
      )
  }
  for (const [later, earlier] of Object.entries(expect.startedAfter ?? {})) {
    const l = after.get(later)
    const e = after.get(earlier)
    if (l?.startedAt === undefined || e?.finishedAt === undefined)
      out.push(
        `startedAfter: ${later} (started ${l?.startedAt}) / ${earlier} (finished ${e?.finishedAt}): not both known`
      )
    else if (l.startedAt < e.finishedAt)
      out.push(`startedAfter: ${later} started at ${l.startedAt}, before ${earlier} finished at ${e.finishedAt}`)
  }
  return out
}

const checkApps = (expect: Expect, o: PassObservation): Array<string> => {
  const out: Array<string> = []
  if (expect.apps !== undefined) {
    const planned = o.result.finalPlan.apps.filter((a) => a.host === HOST)
    const want = Object.entries(expect.apps).map(([app, state]) => `${app} ${state}`)
    out.push(...diffLists("app states (final plan)", sorted(want), sorted(planned.map((a) => `${a.app} ${a.state}`))))
    const stored = o.repoAfter.map((r) => `${r.app} ${r.state}`)
    out.push(...diffLists("app states (repository)", sorted(want), sorted(stored)))
  }
  if (expect.repoUnchanged === true) {
    const rows = (rs: ReadonlyArray<AppStateRecord>) =>
      rs.map((r) => `${r.app} ${r.state} ${r.specHash} ${r.changedAt}`)
    out.push(...diffLists("repository rows (expected unchanged)", rows(o.repoBefore), rows(o.repoAfter)))
  }
  return out
}

const checkRun = (expect: Expect, o: PassObservation): Array<string> => {
  const out: Array<string> = []
  const run = o.result.runs.find((r) => r.host === HOST)
  if (expect.run !== undefined && run?.status !== expect.run)
    out.push(
      `run: ${run?.status ?? "(no run)"}, expected ${expect.run}${run?.error === undefined ? "" : ` (error: ${run.error})`}`
    )
  for (const text of expect.error ?? [])
    if (run?.error?.includes(text) !== true)
      out.push(`run error does not contain "${text}": ${run?.error ?? "(no error)"}`)
  if (expect.actions !== undefined)
    out.push(...diffLists("actions", sorted(expect.actions), sorted(changingActions(o.result))))
  if (expect.passive !== undefined) {
    const have = passiveActions(o.result)
    const missing = expect.passive.filter((p) => !have.includes(p))
    if (missing.length > 0) out.push(`passive actions missing: ${show(missing)} (have: ${show(have)})`)
  }
  if (expect.skips !== undefined) {
    const skips = o.result.finalPlan.actions.filter((a) => a._tag === "skip").map((a) => a.id)
    out.push(...diffLists("skips (final plan)", sorted(expect.skips), sorted(skips)))
  }
  for (const v of expect.volumes ?? [])
    if (!o.volumes.includes(v)) out.push(`volume ${v} is missing (have: ${show(o.volumes)})`)
  return out
}

/** Every mismatch between the expectations and what the pass did and left. */
export const checkPass = (expect: Expect, o: PassObservation): Array<string> => [
  ...checkRun(expect, o),
  ...checkContainers(expect, o),
  ...checkApps(expect, o)
]

/** What happened, for a failure message. */
export const describeObservation = (o: PassObservation): string => {
  const t0 = Math.min(...o.result.results.map((r) => r.startedAt))
  return [
    `  runs: ${o.result.runs.map((r) => `${r.host} ${r.status}${r.error === undefined ? "" : ` (${r.error.replaceAll("\n", "; ")})`}`).join(", ")}`,
    `  rounds: ${o.result.rounds}`,
    `  actions:\n${o.result.results.map((r) => `    - ${r.action.id} ${r.outcome} at +${r.startedAt - t0} ms for ${r.durationMs} ms${r.error === undefined ? "" : ` (${r.error})`}`).join("\n")}`,
    `  containers:\n${o.after.map((c) => `    ${c.name}: ${describeContainer(c)}`).join("\n")}`,
    `  left in the final plan:\n${o.result.finalPlan.actions.map((a) => `    - ${a.id}: ${a.reason}`).join("\n")}`,
    `  apps: ${o.result.finalPlan.apps.map((a) => `${a.app} ${a.state}${a.skipped === undefined ? "" : ` (${a.skipped})`}`).join(", ")}`,
    `  repository: ${o.repoAfter.map((r) => `${r.app} ${r.state}`).join(", ")}`
  ].join("\n")
}
