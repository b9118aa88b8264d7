/**
 * For a moment after a container dies, the engine's container list (which a pass observes) can
 * still show it running: the `die` event comes before the engine has cleaned up and updated the
 * list (100-200 ms on an idle engine, seconds under load). A pass woken by that event would see
 * nothing to do, and no further event would come. So the containers named by `die`, `oom` and
 * `pause` events are noted, and the next pass's observation inspects them (an inspect is up to
 * date) whenever the list says they are running.
 */
import { Effect } from "effect"
import type { DockerShape, EngineEvent } from "../../adapters/docker/Docker.ts"
import type { ObservedContainer } from "../../core/model/observed.ts"

export interface Suspect {
  readonly host: string
  readonly name: string
}

const STATE_EVENTS = new Set(["die", "oom", "pause"])

export const makeSuspects = () => {
  const pending = new Map<string, Suspect>()
  return {
    /** Notes the container of an event that changes its state. */
    note: (host: string, event: EngineEvent): void => {
      if (STATE_EVENTS.has(event.action) && event.name !== "")
        pending.set(`${host}\u0000${event.name}`, { host, name: event.name })
    },
    /** The containers noted since the last call: for the pass that starts now. */
    take: (): ReadonlyArray<Suspect> => {
      const taken = [...pending.values()]
      pending.clear()
      return taken
    }
  }
}

/** `docker`, whose `observe` inspects the suspects the list shows running, and believes the inspect. */
export const inspectingSuspects = (docker: DockerShape, suspects: ReadonlyArray<Suspect>): DockerShape =>
  suspects.length === 0
    ? docker
    : {
        ...docker,
        observe: (host, scope) =>
          Effect.gen(function* () {
            const observed = yield* docker.observe(host, scope)
            const names = new Set(suspects.filter((s) => s.host === host).map((s) => s.name))
            if (observed._tag !== "Known" || names.size === 0) return observed
            const containers = yield* Effect.forEach(
              observed.containers,
              (c): Effect.Effect<ReadonlyArray<ObservedContainer>> =>
                c.state === "running" && names.has(c.name)
                  ? docker.inspectContainer(host, c.id).pipe(
                      Effect.map((now) => (now === undefined ? [] : [now])),
                      Effect.orElseSucceed(() => [c])
                    )
                  : Effect.succeed([c])
            )
            return { ...observed, containers: containers.flat() }
          })
      }
