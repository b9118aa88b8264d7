/**
 * A small process that competes for a lease, for the two-process tests (and by hand):
 *
 *   node test/support/repo/lease-probe.ts URL SCOPE HOST HOLDER TTL_MS MODE WAIT_MS [START_AT_MS]
 *
 * It waits until START_AT_MS (epoch ms, so that several probes race at the same moment), then tries
 * to acquire the lease for up to WAIT_MS, polling every 100 ms. Prints one JSON line per event:
 * `{"event":"acquired","holder","at","expiresAt","previousHolder","abandonedRuns"}` or
 * `{"event":"held","holder","heldBy","expiresAt"}` (then exits with 3).
 * MODE `hold`: after acquiring, records a run `run-HOLDER` in `running` and renews the lease every
 * TTL/5 until killed. MODE `take`: releases the lease and exits 0.
 */
import { Clock, Duration, Effect } from "effect"
import { Repo } from "../../../adapters/repo/Repo.ts"

const [url, scope, host, holder, ttlText, mode, waitText, startText] = process.argv.slice(2)
if (url === undefined || scope === undefined || host === undefined || holder === undefined || mode === undefined) {
  console.error("usage: lease-probe.ts URL SCOPE HOST HOLDER TTL_MS hold|take WAIT_MS [START_AT_MS]")
  process.exit(2)
}
const ttlMs = Number(ttlText)
const waitMs = Number(waitText ?? "0")
const startAt = Number(startText ?? "0")
const say = (line: Record<string, unknown>) => Effect.sync(() => console.log(JSON.stringify({ holder, ...line })))

const program = Effect.gen(function* () {
  const repo = yield* Repo
  const now = yield* Clock.currentTimeMillis
  if (startAt > now) yield* Effect.sleep(Duration.millis(startAt - now))
  const deadline = (yield* Clock.currentTimeMillis) + waitMs
  let result = yield* repo.acquireLease(scope, host, holder, ttlMs)
  while (result._tag === "Held" && (yield* Clock.currentTimeMillis) < deadline) {
    yield* Effect.sleep("100 millis")
    result = yield* repo.acquireLease(scope, host, holder, ttlMs)
  }
  if (result._tag === "Held") {
    yield* say({ event: "held", heldBy: result.heldBy, expiresAt: result.expiresAt })
    return 3
  }
  const at = yield* Clock.currentTimeMillis
  yield* say({
    event: "acquired",
    at,
    expiresAt: result.expiresAt,
    previousHolder: result.previousHolder ?? null,
    abandonedRuns: result.abandonedRuns
  })
  if (mode === "take") {
    yield* repo.releaseLease(scope, host, holder)
    return 0
  }
  yield* repo.createRun({ id: `run-${holder}`, trigger: "cli", scope, host, holder, status: "running", startedAt: at })
  yield* say({ event: "running", run: `run-${holder}` })
  while (true) {
    yield* Effect.sleep(Duration.millis(Math.max(20, ttlMs / 5)))
    const expiresAt = yield* repo.renewLease(scope, host, holder, ttlMs)
    yield* say({ event: "renewed", expiresAt })
  }
})

const code = await Effect.runPromise(
  program.pipe(
    Effect.provide(Repo.layerFromUrl(url)),
    Effect.catchTag("RepoError", (e) => Effect.as(say({ event: "error", kind: e.kind, message: e.message }), 1))
  )
)
process.exit(code)
