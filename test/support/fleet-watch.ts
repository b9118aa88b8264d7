/**
 * Watching an app across engines while a pass runs: samples every few hundred milliseconds how many
 * of its containers are running (and healthy) on each engine, so that a test can tell whether there
 * was a moment with none.
 */
import type Dockerode from "dockerode"
import { containersOf } from "./fleet-engines.ts"

export interface Sample {
  readonly at: number
  /** Host -> names of the app's containers running and healthy there. */
  readonly healthy: Readonly<Record<string, ReadonlyArray<string>>>
  /** Host -> names of the app's containers in any state. */
  readonly present: Readonly<Record<string, ReadonlyArray<string>>>
}

export interface Watcher {
  /** Stops sampling (after one last sample) and returns every sample, oldest first. */
  readonly stop: () => Promise<ReadonlyArray<Sample>>
}

export const watchApp = (
  engines: Readonly<Record<string, Dockerode>>,
  scope: string,
  app: string,
  everyMs = 100
): Watcher => {
  const samples: Array<Sample> = []
  let running = true
  const sample = async (): Promise<void> => {
    const healthy: Record<string, ReadonlyArray<string>> = {}
    const present: Record<string, ReadonlyArray<string>> = {}
    await Promise.all(
      Object.entries(engines).map(async ([host, engine]) => {
        const mine = (await containersOf(engine, scope)).filter((c) => c.labels["moor.app"] === app)
        present[host] = mine.map((c) => c.name)
        healthy[host] = mine.filter((c) => c.state === "running" && c.health === "healthy").map((c) => c.name)
      })
    )
    samples.push({ at: Date.now(), healthy, present })
  }
  const loop = (async () => {
    while (running) {
      await sample()
      await new Promise((r) => setTimeout(r, everyMs))
    }
    await sample()
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return samples
    }
  }
}

/** The samples in which no engine had a healthy container of the app. */
export const gaps = (samples: ReadonlyArray<Sample>): ReadonlyArray<Sample> =>
  samples.filter((s) => Object.values(s.healthy).every((names) => names.length === 0))
