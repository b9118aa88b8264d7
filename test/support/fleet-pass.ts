/**
 * In-process passes over a fleet spec, the way the CLI runs them: the spec loaded by the CLI's own
 * `loadSpec`, the live Docker adapter on every declared engine, the repository at a URL (PostgreSQL
 * in these tests), a memory bus.
 */
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { Bus } from "../../adapters/bus/Bus.ts"
import { DockerLive } from "../../adapters/docker/live.ts"
import { Repo } from "../../adapters/repo/Repo.ts"
import { SpecLoader } from "../../adapters/spec/SpecLoader.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { type Loaded, loadSpec } from "../../runners/cli/context.ts"
import { holderIdOf } from "../../runners/pass/holder.ts"
import { type PassInput, type PassResult, reconcilePass } from "../../runners/pass/pass.ts"

/** Loads a spec directory as `moor apply DIR --repo URL` would. */
export const loadFleet = (dir: string, repoUrl: string): Promise<Loaded> =>
  Effect.runPromise(
    loadSpec(dir, {
      scope: Option.none(),
      dockerHost: Option.none(),
      repo: Option.some(repoUrl),
      json: false,
      quiet: true
    }).pipe(Effect.provide(SpecLoader.layer))
  )

export type PassOptions = Partial<Omit<PassInput, "desired" | "hosts">> & { readonly id: string }

const servicesOf = (loaded: Loaded) =>
  Layer.mergeAll(DockerLive.layer(loaded.engines), Repo.layerFromUrl(loaded.repoUrl), Bus.layerMemory)

const passOf = (loaded: Loaded, options: PassOptions) =>
  reconcilePass({
    trigger: "cli",
    policy: makePolicy(),
    // Like a real holder (`machine:pid:token:key`, runners/pass/holder.ts): one process, many passes.
    holder: holderIdOf(`fleet-test-${options.id}`),
    lease: { ttlMs: 60_000, waitMs: 0 },
    settleMs: 30_000,
    ...options,
    desired: loaded.desired,
    hosts: loaded.hosts
  })

/** One pass over every declared host (apply unless `dryRun`), with the CLI's settings by default. */
export const fleetPass = (loaded: Loaded, options: PassOptions): Promise<PassResult> =>
  Effect.runPromise(passOf(loaded, options).pipe(Effect.provide(servicesOf(loaded))))

/**
 * A runner whose services (engine connections, repository pool) are built once, so that passes of
 * two runners can be started at the same instant. `dispose` when done.
 */
export const fleetRunner = async (loaded: Loaded) => {
  const runtime = ManagedRuntime.make(servicesOf(loaded))
  await runtime.runPromise(Effect.void)
  return {
    pass: (options: PassOptions): Promise<PassResult> => runtime.runPromise(passOf(loaded, options)),
    dispose: () => runtime.dispose()
  }
}

/** `host status` of each run of a pass, sorted by host. */
export const runStatuses = (pass: PassResult): ReadonlyArray<string> =>
  pass.runs.map((r) => `${r.host} ${r.status}`).sort()
