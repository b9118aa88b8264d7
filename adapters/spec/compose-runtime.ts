/**
 * How moor runs a service's containers: `container_name`, `scale`, `network_mode`, `pull_policy`,
 * `post_start` and `pre_stop`, and the checks between them and `deploy.replicas` / `networks`.
 */
import { Result } from "effect"
import type { ExecHook, PullPolicy } from "../../core/model/desired.ts"
import { at } from "./problems.ts"
import { bool, int, listOrDict, map, type Reader, readKeys, seq, sorted, text } from "./reader.ts"
import { shellSplit } from "./shell-split.ts"
import { parseDuration } from "./units.ts"
import type { YEntry, YNode } from "./yaml-tree.ts"

/** Docker's container name rule. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
const NETWORK_MODES = ["host", "none", "bridge", "default"]

export interface RuntimeReads {
  containerName?: { readonly value: string; readonly node: YNode; readonly path: string }
  scale?: { readonly value: number; readonly node: YNode; readonly path: string }
  networkMode?: { readonly value: string; readonly node: YNode; readonly path: string }
  pullPolicy?: PullPolicy
  pullRefreshMs?: number
  postStart?: Array<ExecHook>
  preStop?: Array<ExecHook>
}

/** `daily`, `weekly`, `every_12h`, `every_2d`: how long a pulled image is used before it is pulled again. */
const refreshOf = (policy: string): Result.Result<number, string> | undefined => {
  if (policy === "daily") return Result.succeed(24 * 3600_000)
  if (policy === "weekly") return Result.succeed(7 * 24 * 3600_000)
  if (!policy.startsWith("every_")) return undefined
  const spec = policy.slice("every_".length)
  const days = /^(\d+)([dw])$/.exec(spec)
  if (days !== null) return Result.succeed(Number(days[1]) * (days[2] === "w" ? 7 : 1) * 24 * 3600_000)
  const ms = parseDuration(spec)
  return Result.isSuccess(ms) && ms.success <= 0 ? Result.fail("the interval must be longer than 0") : ms
}

const PULL_POLICIES: Readonly<Record<string, PullPolicy>> = {
  always: "always",
  never: "never",
  missing: "missing",
  if_not_present: "missing",
  build: "build"
}

const command = (r: Reader, node: YNode, path: string): Array<string> | undefined => {
  if (node.kind === "seq") {
    const out: Array<string> = []
    for (const [i, item] of node.items.entries()) {
      const s = text(r, item, at(path, i))
      if (s === undefined) return undefined
      out.push(s)
    }
    return out
  }
  const s = text(r, node, path)
  if (s === undefined) return undefined
  const words = shellSplit(s)
  return Result.isFailure(words) ? r.problems.fail(node.pos, path, words.failure) : words.success
}

/** `post_start` / `pre_stop`: a list of `{ command, user, privileged, working_dir, environment }`. */
const hooks = (r: Reader, node: YNode, path: string, key: string): Array<ExecHook> | undefined => {
  const list = seq(r, node, path)
  if (list === undefined) return undefined
  const out: Array<ExecHook> = []
  for (const [i, item] of list.items.entries()) {
    const p = at(path, i)
    const m = map(r, item, p)
    if (m === undefined) continue
    const hook: { -readonly [K in keyof ExecHook]?: ExecHook[K] } = {}
    readKeys(r, m, p, {
      prefix: `${key}.`,
      read: {
        command: (e, pp) => {
          const c = command(r, e.value, pp)
          if (c !== undefined) hook.command = c
        },
        user: (e, pp) => {
          const u = text(r, e.value, pp)
          if (u !== undefined) hook.user = u
        },
        privileged: (e, pp) => {
          const b = bool(r, e.value, pp)
          if (b !== undefined) hook.privileged = b
        },
        working_dir: (e, pp) => {
          const w = text(r, e.value, pp)
          if (w !== undefined) hook.workingDir = w
        },
        environment: (e, pp) => {
          const kvs = listOrDict(r, e.value, pp)
          if (kvs !== undefined)
            hook.environment = sorted(kvs.flatMap((kv) => (kv.value === null ? [] : [[kv.key, kv.value] as const])))
        }
      },
      unsupported: { per_replica: "", image: "" }
    })
    if (hook.command === undefined || hook.command.length === 0) {
      r.problems.fail(item.pos, p, `a ${key} hook needs a command: add command: [...]`)
      continue
    }
    out.push(sorted(Object.entries(hook)) as ExecHook)
  }
  return out
}

/** The `read` handlers of these keys. */
export const runtimeReaders = (r: Reader, out: RuntimeReads): Record<string, (e: YEntry, p: string) => void> => ({
  container_name: (e, p) => {
    const v = text(r, e.value, p)
    if (v === undefined) return
    if (!CONTAINER_NAME.test(v))
      r.problems.fail(
        e.value.pos,
        p,
        `"${v}" is not a valid container name: use letters, digits, '_', '.', '-', starting with a letter or digit`
      )
    else out.containerName = { value: v, node: e.value, path: p }
  },
  scale: (e, p) => {
    const n = int(r, e.value, p)
    if (n !== undefined && n < 0) r.problems.fail(e.value.pos, p, "scale cannot be negative")
    else if (n !== undefined) out.scale = { value: n, node: e.value, path: p }
  },
  network_mode: (e, p) => {
    const v = text(r, e.value, p)
    if (v === undefined) return
    if (NETWORK_MODES.includes(v) || /^(container|service):[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v))
      out.networkMode = { value: v, node: e.value, path: p }
    else
      r.problems.fail(
        e.value.pos,
        p,
        `network_mode "${v}" is not one of host, none, bridge, container:NAME, service:NAME`
      )
  },
  pull_policy: (e, p) => {
    const v = text(r, e.value, p)
    if (v === undefined) return
    const known = PULL_POLICIES[v]
    if (known !== undefined) {
      out.pullPolicy = known
      return
    }
    const refresh = refreshOf(v)
    if (refresh === undefined)
      r.problems.fail(
        e.value.pos,
        p,
        `pull_policy "${v}" is not one of always, never, missing, if_not_present, build, daily, weekly, every_<duration>`
      )
    else if (Result.isFailure(refresh)) r.problems.fail(e.value.pos, p, `pull_policy "${v}": ${refresh.failure}`)
    else {
      out.pullPolicy = "refresh"
      out.pullRefreshMs = refresh.success
    }
  },
  post_start: (e, p) => {
    const h = hooks(r, e.value, p, "post_start")
    if (h !== undefined && h.length > 0) out.postStart = h
  },
  pre_stop: (e, p) => {
    const h = hooks(r, e.value, p, "pre_stop")
    if (h !== undefined && h.length > 0) out.preStop = h
  }
})

/**
 * The checks between these keys and the others, once the service is read: a fixed name holds one
 * container; `scale` and `deploy.replicas` agree; `network_mode` and `networks` exclude each other;
 * `network_mode: service:NAME` names another service of the app (it is started first).
 */
export const checkRuntime = (
  r: Reader,
  self: string,
  reads: RuntimeReads,
  replicas: { readonly value: number; readonly node: YNode; readonly path: string } | undefined,
  networks: YEntry | undefined,
  serviceNames: ReadonlySet<string>
): { readonly replicas?: number; readonly dependsOn?: string } => {
  const { scale, containerName, networkMode } = reads
  let count: number | undefined = scale?.value ?? replicas?.value
  if (scale !== undefined && replicas !== undefined && scale.value !== replicas.value) {
    r.problems.fail(
      replicas.node.pos,
      replicas.path,
      `deploy.replicas (${replicas.value}) and scale (${scale.value}, line ${scale.node.pos.line}) disagree: keep one`
    )
    count = undefined
  }
  if (containerName !== undefined && count !== undefined && count > 1)
    r.problems.fail(
      containerName.node.pos,
      containerName.path,
      `container_name "${containerName.value}" names one container, but the service runs ${count}: remove container_name, or run one replica`
    )
  let dependsOn: string | undefined
  if (networkMode !== undefined) {
    if (networks !== undefined)
      r.problems.fail(
        networks.keyPos,
        at(networkMode.path.replace(/\.network_mode$/, ""), "networks"),
        `networks and network_mode (line ${networkMode.node.pos.line}) exclude each other: keep one`
      )
    if (networkMode.value.startsWith("service:")) {
      const target = networkMode.value.slice("service:".length)
      if (target === self)
        r.problems.fail(networkMode.node.pos, networkMode.path, `service ${self} cannot use its own network stack`)
      else if (!serviceNames.has(target))
        r.problems.fail(
          networkMode.node.pos,
          networkMode.path,
          `service "${target}" is not defined in this file (services: ${[...serviceNames].sort().join(", ")}): name one of these`
        )
      else dependsOn = target
    }
  }
  return { ...(count === undefined ? {} : { replicas: count }), ...(dependsOn === undefined ? {} : { dependsOn }) }
}
