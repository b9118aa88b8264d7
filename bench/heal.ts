/**
 * `npm run bench -- heal`: how long `moor watch` takes to bring back a managed container killed
 * behind its back (`docker kill` through dockerode). `moor watch` runs as a real process on a spec
 * of SAMPLES one-service apps (moor-fixture/app:1, a published port each, the image's health check
 * every second); each app's container is killed once (a first restart: no restart back-off), one
 * after the other, each once the previous one is healthy again.
 *
 *   heal_ms          kill -> the container is running again (its `start` event), median
 *   heal_healthy_ms  kill -> it is healthy again (its `health_status: healthy` event), median
 * and where the time goes (medians):
 *   heal_event_ms    kill -> the engine's `die` event
 *   heal_plan_ms     `die` -> the pass has its plan (the 250 ms debounce, spec check, lease, observe, plan)
 *   heal_start_ms    plan -> `start` event (the start call: the engine's network and port set-up)
 *   heal_health_ms   `start` -> `health_status: healthy` (the image's health check)
 * Times are when this process receives the engine's events; the plan time is from moor's log.
 * `HEAL_LOG=1` prints moor's log (with MOOR_DEBUG=1: the events that woke each pass) at the end.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Readable } from "node:stream"
import Dockerode from "dockerode"
import { median } from "./stats.ts"

const SAMPLES = 7
const FIRST_PORT = 19620
const docker = new Dockerode({ socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock" })
/** Wall-clock ms, comparable with the timestamps of moor's log lines. */
const wall = (): number => performance.timeOrigin + performance.now()

interface EngineEvent {
  readonly action: string
  readonly name: string
  readonly at: number
}

/** The engine's events for the scope, as they arrive (receive time, not the engine's stamp). */
const followEvents = async (scope: string) => {
  const seen: Array<EngineEvent> = []
  const stream = (await docker.getEvents({
    filters: { type: ["container"], label: [`moor.scope=${scope}`] }
  })) as Readable
  let buffered = ""
  stream.on("data", (chunk: Buffer) => {
    const at = wall()
    buffered += chunk.toString()
    const lines = buffered.split("\n")
    buffered = lines.pop() ?? ""
    for (const line of lines) {
      if (line.trim() === "") continue
      const e = JSON.parse(line) as { Action: string; Actor?: { Attributes?: Record<string, string> } }
      seen.push({ action: e.Action, name: e.Actor?.Attributes?.name ?? "", at })
    }
  })
  const next = async (name: string, action: string, after: number, timeoutMs = 20_000): Promise<number> => {
    const deadline = wall() + timeoutMs
    while (wall() < deadline) {
      const hit = seen.find((e) => e.name === name && e.action === action && e.at >= after)
      if (hit !== undefined) return hit.at
      await new Promise((r) => setTimeout(r, 5))
    }
    throw new Error(`no "${action}" event for ${name} within ${timeoutMs} ms`)
  }
  return { next, stop: () => stream.destroy() }
}

/** The time of the first line of moor's log at or after `after` that matches `pattern`. */
const logTime = (log: string, pattern: RegExp, after: number): number | undefined => {
  for (const line of log.split("\n")) {
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(line)
    if (m === null || !pattern.test(m[2] ?? "")) continue
    const at = Date.parse(m[1] ?? "")
    if (at >= after) return at
  }
  return undefined
}

const cleanup = async (scope: string) => {
  const label = [`moor.scope=${scope}`]
  for (const c of await docker.listContainers({ all: true, filters: { label } }))
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined)
  for (const n of await docker.listNetworks({ filters: { label } }))
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined)
}

export const run = async (): Promise<Array<[name: string, value: number]>> => {
  const token = randomBytes(3).toString("hex")
  const scope = `bench-heal-${token}`
  const apps = Array.from({ length: SAMPLES }, (_, i) => `bh${token}${String.fromCharCode(97 + i)}`)
  const dir = mkdtempSync(join(tmpdir(), "moor-bench-heal-"))
  const spec = join(dir, "spec")
  mkdirSync(spec)
  writeFileSync(join(spec, "moor.yaml"), `scope: ${scope}\n`)
  apps.forEach((app, i) => {
    mkdirSync(join(spec, app))
    writeFileSync(
      join(spec, app, "compose.yaml"),
      `services:\n  web:\n    image: moor-fixture/app:1\n    ports:\n      - "127.0.0.1:${FIRST_PORT + i}:8080"\n    restart: unless-stopped\n`
    )
  })
  const entry = "runners/cli/main.ts"
  let log = ""
  let child: ChildProcess | undefined
  const events = await followEvents(scope)
  try {
    if (!existsSync("node_modules/.bin/node")) throw new Error("run through npm: npm run bench -- heal")
    child = spawn(
      resolve("node_modules/.bin/node"),
      [entry, "watch", spec, "--interval", "5m", "--repo", `sqlite:${join(dir, "state.db")}`],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MOOR_BUS: "memory", MOOR_DEBUG: "1" } }
    )
    child.stdout?.on("data", (d: Buffer) => (log += d.toString()))
    child.stderr?.on("data", (d: Buffer) => (log += d.toString()))
    const t = wall()
    for (const app of apps) await events.next(`${app}-web-1`, "health_status: healthy", t, 60_000)

    const heal: Array<number> = []
    const healthy: Array<number> = []
    const event: Array<number> = []
    const plan: Array<number> = []
    const start: Array<number> = []
    const health: Array<number> = []
    for (const app of apps) {
      const name = `${app}-web-1`
      await new Promise((r) => setTimeout(r, 500)) // let the pass woken by the last health event end
      const t0 = wall()
      await docker.getContainer(name).kill()
      const died = await events.next(name, "die", t0)
      const started = await events.next(name, "start", t0)
      const healthyAt = await events.next(name, "health_status: healthy", started)
      const planned = logTime(log, /round 1: \d+ action/, died)
      heal.push(started - t0)
      healthy.push(healthyAt - t0)
      event.push(died - t0)
      health.push(healthyAt - started)
      if (planned !== undefined && planned <= started) {
        plan.push(planned - died)
        start.push(started - planned)
      }
      console.error(
        `${name}: running after ${Math.round(started - t0)} ms, healthy after ${Math.round(healthyAt - t0)} ms`
      )
    }
    const out: Array<[string, number]> = [
      ["heal_ms", median(heal)],
      ["heal_healthy_ms", median(healthy)],
      ["heal_event_ms", median(event)]
    ]
    if (plan.length > 0) out.push(["heal_plan_ms", median(plan)], ["heal_start_ms", median(start)])
    out.push(["heal_health_ms", median(health)])
    if (process.env.HEAL_LOG === "1") console.error(log)
    return out
  } catch (e) {
    console.error(`--- moor watch output:\n${log}`)
    throw e
  } finally {
    events.stop()
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child?.once("exit", r))
      child.kill("SIGTERM")
      await exited
    }
    await cleanup(scope)
    rmSync(dir, { recursive: true, force: true })
  }
}
