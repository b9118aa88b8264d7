/**
 * Lease contention between real Node processes, on a SQLite file and on PostgreSQL: two probes
 * racing for a free lease (exactly one wins), a bounded wait that reports the holder, and after
 * `kill -9` of the holder, the lease passes to another process once its TTL has run out, and the
 * dead holder's run is marked abandoned.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { createInterface } from "node:readline"
import { Effect } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { Repo } from "../../adapters/repo/Repo.ts"
import { dropTestSchemas, requirePg, uniqueSchema, urlWithSchema } from "../support/repo/pg.ts"

const node = resolve("node_modules/.bin/node")
const probe = resolve("test/support/repo/lease-probe.ts")
const ttlMs = 1500
const dir = mkdtempSync(join(tmpdir(), "moor-repo-lease-"))

interface ProbeLine {
  readonly event: "acquired" | "held" | "running" | "renewed" | "error"
  readonly holder: string
  readonly at?: number
  readonly expiresAt?: number
  readonly heldBy?: string
  readonly previousHolder?: string | null
  readonly abandonedRuns?: ReadonlyArray<string>
  readonly message?: string
}

interface Probe {
  readonly child: ChildProcess
  readonly lines: Array<ProbeLine>
  /** Resolves with the first line matching, or rejects after `timeoutMs`. */
  readonly next: (match: (line: ProbeLine) => boolean, timeoutMs: number) => Promise<ProbeLine>
  readonly exited: Promise<number | null>
}

const children: Array<ChildProcess> = []

const startProbe = (url: string, holder: string, mode: "hold" | "take", waitMs: number, startAt = 0): Probe => {
  const child = spawn(
    node,
    [probe, url, "shop", "web-1", holder, String(ttlMs), mode, String(waitMs), String(startAt)],
    {
      stdio: ["ignore", "pipe", "pipe"]
    }
  )
  children.push(child)
  const lines: Array<ProbeLine> = []
  const waiters: Array<() => void> = []
  let stderr = ""
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  createInterface({ input: child.stdout! }).on("line", (text) => {
    lines.push(JSON.parse(text) as ProbeLine)
    for (const wake of waiters.splice(0)) wake()
  })
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
  const next = (match: (line: ProbeLine) => boolean, timeoutMs: number) =>
    new Promise<ProbeLine>((done, fail) => {
      const timer = setTimeout(
        () =>
          fail(
            new Error(`probe ${holder}: no matching line in ${timeoutMs} ms; got ${JSON.stringify(lines)} ${stderr}`)
          ),
        timeoutMs
      )
      const check = () => {
        const found = lines.find(match)
        if (found !== undefined) {
          clearTimeout(timer)
          done(found)
        } else waiters.push(check)
      }
      check()
      void exited.then(() => setTimeout(check, 50))
    })
  return { child, lines, next, exited }
}

const decided = (line: ProbeLine) => line.event === "acquired" || line.event === "held" || line.event === "error"

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL")
})

const backends: Array<[string, () => string, () => Promise<void>, () => Promise<void>]> = [
  [
    "SQLite file",
    () => `sqlite:${join(dir, randomBytes(4).toString("hex"), "state.db")}`,
    async () => {},
    async () => {}
  ],
  ["PostgreSQL", () => urlWithSchema(uniqueSchema()), requirePg, dropTestSchemas]
]

afterAll(() => rmSync(dir, { recursive: true, force: true }))

for (const [name, makeUrl, setup, teardown] of backends) {
  describe(`lease contention between processes: ${name}`, () => {
    beforeAll(setup)
    afterAll(teardown)

    it("two processes racing for a free lease: exactly one holds it, the other is told who", async () => {
      const url = makeUrl()
      // Both probes start trying at the same wall-clock moment, well after both have booted.
      const startAt = Date.now() + 2500
      const a = startProbe(url, "proc-a", "hold", 0, startAt)
      const b = startProbe(url, "proc-b", "hold", 0, startAt)
      const [la, lb] = await Promise.all([a.next(decided, 15_000), b.next(decided, 15_000)])
      const outcomes = [la, lb].map((l) => l.event).sort()
      expect(outcomes, JSON.stringify([la, lb])).toEqual(["acquired", "held"])
      const winner = la.event === "acquired" ? la : lb
      const loser = la.event === "acquired" ? lb : la
      expect(loser.heldBy).toBe(winner.holder)
      expect(await (loser === la ? a : b).exited).toBe(3)
    })

    it("kill -9 of the holder: the lease passes on after its TTL, and the dead holder's run is abandoned", async () => {
      const url = makeUrl()
      const holder = startProbe(url, "doomed", "hold", 0)
      await holder.next((l) => l.event === "running", 15_000)
      await holder.next((l) => l.event === "renewed", 5_000)

      // While it lives, a bounded wait ends with "held by doomed".
      const waiter = startProbe(url, "patient", "take", 800)
      const told = await waiter.next(decided, 15_000)
      expect(told).toMatchObject({ event: "held", heldBy: "doomed" })
      expect(await waiter.exited).toBe(3)

      holder.child.kill("SIGKILL")
      await holder.exited
      const lastExpiry = Math.max(...holder.lines.map((l) => l.expiresAt ?? 0))

      const heir = startProbe(url, "heir", "take", 10_000)
      const got = await heir.next(decided, 20_000)
      expect(got).toMatchObject({ event: "acquired", previousHolder: "doomed", abandonedRuns: ["run-doomed"] })
      expect(got.at).toBeGreaterThanOrEqual(lastExpiry)
      expect(await heir.exited).toBe(0)

      const run = await Effect.runPromise(
        Repo.use((repo) => repo.getRun("run-doomed")).pipe(Effect.provide(Repo.layerFromUrl(url)))
      )
      expect(run?.run.status).toBe("abandoned")
      expect(run?.run.error).toContain('taken over by "heir"')
    })
  })
}
