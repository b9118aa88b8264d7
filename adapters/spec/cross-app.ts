/**
 * Problems that only show once every app is read: `requires` cycles, a host port published by two
 * apps on one host, and a container name two apps fix on one host. Each is reported in the app's own file, at the `requires` entry or the port
 * entry, so the user sees where to change it (the planner would otherwise only skip the apps).
 */
import { findCycle } from "../../core/decode.ts"
import type { AppPort } from "./compose-app.ts"
import { portsClash, showPublished } from "./compose-ports.ts"
import type { Pos, SpecProblem } from "./problems.ts"
import type { RequireDecl } from "./x-moor.ts"

export interface AppFacts {
  readonly name: string
  /** The Compose file as shown in messages. */
  readonly file: string
  readonly requires: ReadonlyArray<RequireDecl>
  readonly published: ReadonlyArray<AppPort>
  /** Fixed container names (`container_name`), where they are written. */
  readonly containerNames: ReadonlyArray<{ readonly name: string; readonly pos: Pos; readonly path: string }>
  /** The hosts the app is placed on. */
  readonly hosts: ReadonlyArray<string>
  /** No problem so far: only such apps hold ports (an invalid app is left alone). */
  readonly ok: boolean
}

const byName = (a: AppFacts, b: AppFacts): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/** Every app in a `requires` cycle gets a problem at its requirement of the next app in the cycle. */
export const requiresCycles = (apps: ReadonlyArray<AppFacts>): Map<string, Array<SpecProblem>> => {
  const out = new Map<string, Array<SpecProblem>>()
  const byApp = new Map(apps.map((a) => [a.name, a]))
  const providersOf = (name: string) => (byApp.get(name)?.requires ?? []).map((r) => r.app)
  let remaining = [...byApp.keys()]
  for (;;) {
    const cycle = findCycle(remaining, providersOf)
    if (cycle === undefined) return out
    const path = cycle.join(" -> ")
    for (let i = 0; i + 1 < cycle.length; i++) {
      const app = byApp.get(cycle[i] ?? "")
      const decl = app?.requires.find((r) => r.app === cycle[i + 1])
      if (app === undefined || decl === undefined) continue
      out.set(app.name, [
        {
          file: app.file,
          line: decl.pos.line,
          column: decl.pos.column,
          path: decl.path,
          message: `requires cycle: ${path}; an app cannot wait for an app that waits for it: remove one of these requirements`
        }
      ])
    }
    const members = new Set(cycle)
    remaining = remaining.filter((n) => !members.has(n))
  }
}

/**
 * A host port published by two apps on one host: the app later in name order gets the problem at
 * its port entry (as the planner would leave it out), and holds none of its ports.
 */
export const portClashes = (apps: ReadonlyArray<AppFacts>): Map<string, Array<SpecProblem>> => {
  const out = new Map<string, Array<SpecProblem>>()
  const held: Array<{ readonly app: AppFacts; readonly host: string; readonly port: AppPort }> = []
  for (const app of [...apps].filter((a) => a.ok).sort(byName)) {
    const problems: Array<SpecProblem> = []
    for (const host of app.hosts) {
      for (const port of app.published) {
        const owner = held.find((h) => h.host === host && portsClash(h.port.port, port.port))
        if (owner === undefined) continue
        const { line, column } = owner.port.pos
        const mine = showPublished(port.port)
        const theirs = showPublished(owner.port.port)
        problems.push({
          file: app.file,
          line: port.pos.line,
          column: port.pos.column,
          path: port.path,
          message: `host port ${mine} on host ${host} is already published by app ${owner.app.name} (${theirs === mine ? "" : `as ${theirs}, `}${owner.app.file}:${line}:${column}): publish another host port, or place the apps on different hosts`
        })
      }
    }
    if (problems.length > 0) out.set(app.name, problems)
    else for (const host of app.hosts) for (const port of app.published) held.push({ app, host, port })
  }
  return out
}

/**
 * A `container_name` that another app also fixes on one of its hosts: one engine holds one container
 * of a name, so the app later in name order gets the problem at its `container_name`.
 */
export const containerNameClashes = (apps: ReadonlyArray<AppFacts>): Map<string, Array<SpecProblem>> => {
  const out = new Map<string, Array<SpecProblem>>()
  const held = new Map<string, { readonly app: AppFacts; readonly pos: Pos }>()
  for (const app of [...apps].filter((a) => a.ok).sort(byName)) {
    const problems: Array<SpecProblem> = []
    for (const n of app.containerNames)
      for (const host of app.hosts) {
        const owner = held.get(`${host}|${n.name}`)
        if (owner === undefined) continue
        problems.push({
          file: app.file,
          line: n.pos.line,
          column: n.pos.column,
          path: n.path,
          message: `container_name "${n.name}" on host ${host} is also app ${owner.app.name}'s (${owner.app.file}:${owner.pos.line}:${owner.pos.column}): give each its own name, or place the apps on different hosts`
        })
        break
      }
    if (problems.length > 0) out.set(app.name, problems)
    else
      for (const n of app.containerNames)
        for (const host of app.hosts) held.set(`${host}|${n.name}`, { app, pos: n.pos })
  }
  return out
}
