/** `environment` values and `env_file` entries (read, parsed as `.env`, digested). */
import { createHash } from "node:crypto"
import * as nodePath from "node:path"
import { Result } from "effect"
import { parseDotenv } from "./dotenv.ts"
import { at } from "./problems.ts"
import { bool, dirAt, type KeyValue, lookupAt, type Reader, readKeys, text } from "./reader.ts"
import { decodeText } from "./text-guard.ts"
import type { YNode } from "./yaml-tree.ts"

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** environment values: a name without a value comes from the lookup, and is left out when unset. */
export const envValues = (r: Reader, kvs: ReadonlyArray<KeyValue>): Array<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  for (const kv of kvs) {
    const v = kv.value ?? lookupAt(r, kv.node)(kv.key)
    if (v !== undefined) out.push([kv.key, v])
  }
  return out
}

/** Reads `env_file` entries: the variables in order, and each file's digest keyed by the path as written. */
export const readEnvFiles = (
  r: Reader,
  node: YNode,
  path: string,
  ctx: { readonly appDir: string; readonly readFile: (relative: string) => Result.Result<Uint8Array, string> }
) => {
  const items: Array<{ file: string; required: boolean; node: YNode; path: string }> = []
  const add = (item: YNode, p: string) => {
    if (item.kind === "map") {
      let file: string | undefined
      let required = true
      readKeys(r, item, p, {
        prefix: "env_file.",
        read: {
          path: (e, pp) => {
            file = text(r, e.value, pp)
          },
          required: (e, pp) => {
            required = bool(r, e.value, pp) ?? true
          }
        },
        unsupported: { format: "" }
      })
      if (file === undefined) r.problems.fail(item.pos, p, "an env_file entry needs a path")
      else items.push({ file, required, node: item, path: p })
      return
    }
    const file = text(r, item, p)
    if (file !== undefined) items.push({ file, required: true, node: item, path: p })
  }
  if (node.kind === "seq") {
    for (const [i, item] of node.items.entries()) add(item, at(path, i))
  } else add(node, path)
  const env: Array<readonly [string, string]> = []
  const digests: Array<readonly [string, string]> = []
  for (const item of items) {
    const dir = dirAt(item.node, ctx.appDir)
    const read = ctx.readFile(dir === ctx.appDir ? item.file : nodePath.resolve(dir, item.file))
    if (Result.isFailure(read)) {
      if (!item.required && read.failure.startsWith("missing")) continue
      r.problems.fail(
        item.node.pos,
        item.path,
        read.failure.startsWith("missing")
          ? `env file ${item.file} does not exist (the path is relative to the app's directory): create it, or make it optional with "- path: ${item.file}" and "required: false"`
          : `env file ${item.file}: ${read.failure}`
      )
      continue
    }
    const content = decodeText(read.success)
    if (Result.isFailure(content)) {
      r.problems.fail(item.node.pos, item.path, `env file ${item.file}: ${content.failure}`)
      continue
    }
    const parsed = parseDotenv(content.success, r.lookup)
    if (Result.isFailure(parsed)) {
      r.problems.fail(
        item.node.pos,
        item.path,
        `env file ${item.file}, line ${parsed.failure.line}: ${parsed.failure.message}`
      )
      continue
    }
    for (const e of parsed.success) if (e.value !== undefined) env.push([e.key, e.value])
    digests.push([item.file, sha256(read.success)])
  }
  return { env, digests }
}

/** The service, or undefined when it had problems (they are in `r.problems`). */
