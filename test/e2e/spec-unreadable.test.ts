/**
 * Anything moor cannot read is unknown, never absent, on the real engine with the CLI as a person
 * runs it. One app's Compose file turned into a dangling symlink, its directory made unreadable
 * (mode 000, with moor running as root without the capabilities that ignore file modes), its file
 * rewritten again and again while `moor watch` loads it: each time its containers stay as they are
 * (the same containers, running), and the plan or the run says why. The app's file names it
 * otherwise than its directory, so only the rule "no app is taken for gone while part of the spec
 * cannot be read" keeps its containers.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, raw, requireFixtures } from "../support/docker-e2e.ts"
import { cliEnv, moor, moorUnder } from "../support/fleet-cli.ts"
import { settleTree } from "../support/settled.ts"

const tok = randomBytes(3).toString("hex")
const SCOPE = `unr-${tok}`
const KEEP = `u${tok}keep`
/** The directory `u<tok>other` holds the app `u<tok>named`. */
const OTHER_DIR = `u${tok}other`
const NAMED = `u${tok}named`
const base = mkdtempSync(join(tmpdir(), "moor-unreadable-"))
const dir = join(base, "spec")
const env = cliEnv(`sqlite:${join(base, "state.db")}`)
const otherFile = join(dir, OTHER_DIR, "compose.yaml")

const service = (name: string) => [`  ${name}:`, "    image: moor-fixture/app:1", "    restart: unless-stopped"]
/** The named app's file in two steps, as a slow writer leaves it: the first is a valid app with one service of two. */
const WEB_ONLY = [`name: ${NAMED}`, "services:", ...service("web"), ""].join("\n")
const WEB_AND_API = [WEB_ONLY.trimEnd(), ...service("api"), ""].join("\n")

const writeSpec = () => {
  mkdirSync(join(dir, KEEP), { recursive: true })
  mkdirSync(join(dir, OTHER_DIR), { recursive: true })
  writeFileSync(join(dir, "moor.yaml"), `scope: ${SCOPE}\n`)
  writeFileSync(join(dir, KEEP, "compose.yaml"), ["services:", ...service("web"), ""].join("\n"))
  writeFileSync(otherFile, WEB_AND_API)
  settleTree(dir)
}

/** `name id state` of the scope's containers. */
const containers = async (): Promise<ReadonlyArray<string>> =>
  (await raw.listContainers({ all: true, filters: { label: [`moor.scope=${SCOPE}`] } }))
    .map((c) => `${c.Names[0]?.slice(1)} ${c.Id.slice(0, 12)} ${c.State}`)
    .sort()

/** Root without the capabilities that let it read whatever the file modes say. */
const WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]

let converged: ReadonlyArray<string> = []

beforeAll(async () => {
  await requireFixtures()
  const setpriv = spawnSync("setpriv", ["--version"])
  if (setpriv.error !== undefined)
    throw new Error(`setpriv (util-linux) is needed to run moor without read-any-file rights: ${setpriv.error.message}`)
  writeSpec()
  const r = await moor(env, "apply", dir)
  expect(r.code, r.stdout + r.stderr).toBe(0)
  converged = await containers()
  expect(converged.map((c) => c.split(" ")[0])).toEqual([`${KEEP}-web-1`, `${NAMED}-api-1`, `${NAMED}-web-1`])
  expect(converged.every((c) => c.endsWith(" running"))).toBe(true)
})

afterAll(async () => {
  await cleanupScope(SCOPE)
  rmSync(base, { recursive: true, force: true })
})

/** The lines of a plan or apply that keep the named app's containers. */
const keptLines = (out: string) => out.split("\n").filter((l) => l.includes(`! skip ${NAMED}/`))

describe("a part of the spec that cannot be read, on the real engine", () => {
  it("a Compose file turned into a dangling symlink: the plan keeps the app's containers and says why; apply changes nothing", async () => {
    unlinkSync(otherFile)
    symlinkSync(join(base, "gone.yaml"), otherFile)
    try {
      const plan = await moor(env, "plan", dir)
      expect(plan.code).toBe(1)
      expect(plan.stderr).toContain(`problem: ${otherFile}: a broken symbolic link (to ${join(base, "gone.yaml")})`)
      expect(plan.stdout).not.toMatch(/^\s+- /m)
      const kept = keptLines(plan.stdout)
      expect(kept).toHaveLength(2)
      expect(kept[0]).toContain(
        `(app ${NAMED} is not in the spec as read, but part of the spec could not be read (${otherFile}: a broken symbolic link`
      )

      const apply = await moor(env, "apply", dir)
      expect(apply.code).toBe(1)
      expect(apply.stdout).toMatch(new RegExp(`local/${NAMED} +running +\\(app ${NAMED} is not in the spec as read`))
      expect(apply.stdout).toContain("Apply incomplete: 0 done, 0 failed")
      expect(await containers()).toEqual(converged)
    } finally {
      unlinkSync(otherFile)
      writeFileSync(otherFile, WEB_AND_API)
      settleTree(dir)
    }
  })

  it("an app directory moor may not read (mode 000, moor without read-any-file rights): the containers stay, the run says why", async () => {
    chmodSync(join(dir, OTHER_DIR), 0o000)
    try {
      const apply = await moorUnder(WITHOUT_DAC, env, "apply", dir)
      expect(apply.stderr).toContain(`problem: ${otherFile}: permission denied`)
      expect(apply.code).toBe(1)
      expect(keptLines(apply.stdout).length).toBeGreaterThan(0)
      expect(await containers()).toEqual(converged)
      // The run records why.
      const runs = await moor(env, "runs", "--spec", dir)
      const id = runs.stdout.split(" ")[0] ?? ""
      const show = await moor(env, "runs", "show", id, "--spec", dir)
      expect(show.stdout).toContain(`app ${OTHER_DIR}: ${otherFile}: permission denied`)
      expect(show.stdout).toContain(`app ${NAMED}: app ${NAMED} is not in the spec as read`)
    } finally {
      chmodSync(join(dir, OTHER_DIR), 0o755)
    }
    const again = await moor(env, "plan", dir, "--detailed-exitcode")
    expect(again.code, again.stdout + again.stderr).toBe(0)
  })

  it("a file rewritten again and again while moor watch loads it: no container is touched, the passes say why", async () => {
    const watch: ChildProcess = spawn(
      resolve("node_modules/.bin/node"),
      [resolve("runners/cli/main.ts"), "watch", dir, "--interval", "1s"],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...env, MOOR_DEBUG: "1" } }
    )
    let output = ""
    watch.stdout?.on("data", (d: Buffer) => (output += d.toString()))
    watch.stderr?.on("data", (d: Buffer) => (output += d.toString()))
    try {
      const until = async (what: string, check: () => boolean, ms = 30_000) => {
        const deadline = Date.now() + ms
        while (!check()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n--- moor watch:\n${output}`)
          await sleep(20)
        }
      }
      await until("the first pass", () => /pass \S+ \(start\): succeeded/.test(output))
      const seen = output.length
      // A writer that truncates the file, writes a valid app with one service of two, and the rest
      // 15 ms later, for 5 s: each pass meanwhile would remove the second service were it taken
      // half written. Each version differs (a numbered comment), so no pass finds the file as an
      // earlier pass read it. The engine is looked at throughout.
      const samples: Array<ReadonlyArray<string>> = []
      const stopAt = Date.now() + 5000
      const writer = (async () => {
        for (let n = 0; Date.now() < stopAt; n++) {
          writeFileSync(otherFile, `# version ${n}\n${WEB_ONLY}`)
          await sleep(15)
          writeFileSync(otherFile, `# version ${n}\n${WEB_AND_API}`)
          await sleep(15)
        }
      })()
      while (Date.now() < stopAt) {
        samples.push(await containers())
        await sleep(100)
      }
      await writer
      await until("a pass after the writer stopped", () =>
        /pass \S+ \(\w+\): succeeded/.test(output.slice(output.lastIndexOf("changed while moor read it")))
      )
      const during = output.slice(seen)
      const passes = during.match(/pass \S+ \(\w+\): \w+/g) ?? []
      const refused = passes.filter((line) => line.endsWith(": partial"))
      console.log(
        `unreadable_watch: ${passes.length} passes during and after 5 s of rewriting, ${refused.length} of them partial (the file refused); ${samples.length} engine samples, all unchanged`
      )
      expect(during).toContain(`problem: ${otherFile}: it changed while moor read it, 3 times in a row`)
      expect(during).toMatch(/pass \S+ \(interval\): partial/)
      expect(during).not.toMatch(/ (stop|remove) /)
      expect(samples.length).toBeGreaterThan(20)
      for (const s of samples) expect(s).toEqual(converged)
      expect(await containers()).toEqual(converged)
    } finally {
      watch.kill("SIGTERM")
      await new Promise((r) => watch.once("exit", r))
    }
  })
})
