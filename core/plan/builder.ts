/**
 * Collects actions in generation order. Generation follows dependency order (providers before
 * consumers, dependencies before dependents), so the list is already topological; `begin()`
 * opens a transaction so an app whose planning ends in a skip leaves nothing behind.
 */
import type { Action } from "../model/plan.ts"

export class ActionBuilder {
  readonly actions: Array<Action> = []
  private readonly ids = new Set<string>()
  /** Host-wide shared actions (a pull, a network used by several apps), by key. */
  private readonly shared = new Map<string, string>()
  private readonly log: Array<{ readonly length: number; readonly sharedKeys: Array<string> }> = []

  has(id: string): boolean {
    return this.ids.has(id)
  }

  add<A extends Action>(action: A): A {
    if (this.ids.has(action.id)) return action
    this.ids.add(action.id)
    this.actions.push(action)
    return action
  }

  /** The id of the shared action under `key`, adding it with `make` the first time. */
  shareOrAdd(key: string, make: () => Action): string {
    const existing = this.shared.get(key)
    if (existing !== undefined) return existing
    const action = this.add(make())
    this.shared.set(key, action.id)
    this.log.at(-1)?.sharedKeys.push(key)
    return action.id
  }

  begin(): void {
    this.log.push({ length: this.actions.length, sharedKeys: [] })
  }

  commit(): void {
    const done = this.log.pop()
    if (done !== undefined) this.log.at(-1)?.sharedKeys.push(...done.sharedKeys)
  }

  rollback(): void {
    const tx = this.log.pop()
    if (tx === undefined) return
    for (const action of this.actions.splice(tx.length)) this.ids.delete(action.id)
    for (const key of tx.sharedKeys) this.shared.delete(key)
  }
}
