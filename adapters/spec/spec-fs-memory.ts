/**
 * An in-memory `SpecFs` for tests: files, directories and symlinks under absolute paths, with the
 * faults a real disk has: a directory moor may not read (mode 000), an I/O error, a broken or
 * looping symlink, a file another process rewrites while it is read. Answers as `nodeSpecFs` does.
 */
import * as nodePath from "node:path"
import { Result } from "effect"
import { type FileStat, MISSING, type SpecFs } from "./spec-fs.ts"

type Node =
  | { readonly kind: "file"; content: Uint8Array; version: number; modifiedMs: number }
  | { readonly kind: "dir"; version: number; modifiedMs: number }
  | { readonly kind: "link"; readonly target: string }

const DENIED = "permission denied: moor cannot read it (check its owner and mode)"
const IO_ERROR = "an I/O error while reading it"
const LOOP = "a loop of symbolic links: it resolves to itself"

type Resolved =
  | { readonly _tag: "found"; readonly path: string; readonly node: Node }
  | { readonly _tag: "missing"; readonly brokenLink?: string }
  | { readonly _tag: "error"; readonly reason: string }

export class MemorySpecFs implements SpecFs {
  private readonly nodes = new Map<string, Node>([["/", { kind: "dir", version: 0, modifiedMs: 0 }]])
  private readonly denied = new Set<string>()
  private readonly broken = new Map<string, string>()
  /** Runs inside every `readFile`, before the content is taken: a writer racing the reader. */
  onRead: ((path: string) => void) | undefined
  /** The modification time new writes get (epoch ms); 0 by default: long settled. */
  now: () => number = () => 0

  /** Writes a file (creating its directories), as a new version of it. */
  file(path: string, content: string | Uint8Array): this {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
    const existing = this.nodes.get(path)
    if (existing?.kind === "file") {
      existing.content = bytes
      existing.version++
      existing.modifiedMs = this.now()
    } else this.add(path, { kind: "file", content: bytes, version: 0, modifiedMs: this.now() })
    return this
  }

  dir(path: string): this {
    if (this.nodes.get(path)?.kind !== "dir") this.add(path, { kind: "dir", version: 0, modifiedMs: this.now() })
    return this
  }

  symlink(path: string, target: string): this {
    this.add(path, { kind: "link", target })
    return this
  }

  remove(path: string): this {
    for (const p of [...this.nodes.keys()]) if (p === path || p.startsWith(`${path}/`)) this.nodes.delete(p)
    this.touch(nodePath.dirname(path))
    return this
  }

  /** Like mode 000: the path can be seen, but not listed, read or looked into. */
  deny(path: string): this {
    this.denied.add(path)
    return this
  }

  /** Every access to the path (and below it) fails with an I/O error. */
  ioError(path: string): this {
    this.broken.set(path, IO_ERROR)
    return this
  }

  private add(path: string, node: Node): void {
    const parent = nodePath.dirname(path)
    if (parent !== path) this.dir(parent)
    this.nodes.set(path, node)
    this.touch(parent)
  }

  private touch(dir: string): void {
    const d = this.nodes.get(dir)
    if (d?.kind === "dir") {
      d.version++
      d.modifiedMs = this.now()
    }
  }

  /** Walks the path component by component, following symlinks, as the kernel does. */
  private resolve(path: string, hops = 0): Resolved {
    if (hops > 40) return { _tag: "error", reason: LOOP }
    const parts = nodePath
      .resolve(path)
      .split("/")
      .filter((p) => p !== "")
    let current = "/"
    for (const [i, part] of parts.entries()) {
      const error = this.broken.get(current)
      if (error !== undefined) return { _tag: "error", reason: error }
      if (this.denied.has(current) && current !== "/") return { _tag: "error", reason: DENIED }
      const next = nodePath.join(current, part)
      const node = this.nodes.get(next)
      if (node === undefined) return { _tag: "missing" }
      if (node.kind === "link") {
        const target = nodePath.resolve(current, node.target)
        const rest = parts.slice(i + 1).join("/")
        const r = this.resolve(rest === "" ? target : nodePath.join(target, rest), hops + 1)
        return r._tag === "missing" && rest === "" ? { _tag: "missing", brokenLink: node.target } : r
      }
      if (node.kind === "file" && i < parts.length - 1) return { _tag: "missing" } // ENOTDIR: a part of the path is a file
      current = next
    }
    const error = this.broken.get(current)
    if (error !== undefined) return { _tag: "error", reason: error }
    const node = this.nodes.get(current)
    return node === undefined ? { _tag: "missing" } : { _tag: "found", path: current, node }
  }

  private notThere(r: Resolved & { _tag: "missing" }): string | undefined {
    return r.brokenLink === undefined
      ? undefined
      : `a broken symbolic link (to ${r.brokenLink}): its target does not exist; restore it, or remove the link`
  }

  stat = (path: string): Result.Result<FileStat | undefined, string> => {
    const r = this.resolve(path)
    if (r._tag === "error") return Result.fail(r.reason)
    if (r._tag === "missing") {
      const broken = this.notThere(r)
      return broken === undefined ? Result.succeed(undefined) : Result.fail(broken)
    }
    const n = r.node
    if (n.kind === "link") return Result.fail(LOOP)
    return Result.succeed({
      kind: n.kind,
      size: n.kind === "file" ? n.content.byteLength : 4096,
      stamp: `${r.path}:${n.version}:${n.kind === "file" ? n.content.byteLength : 0}`,
      modifiedMs: n.modifiedMs
    })
  }

  readDir = (path: string): Result.Result<ReadonlyArray<string>, string> => {
    const r = this.resolve(path)
    if (r._tag === "error") return Result.fail(r.reason)
    if (r._tag === "missing") return Result.fail(this.notThere(r) ?? MISSING)
    if (r.node.kind !== "dir") return Result.fail("missing: a part of the path is not a directory")
    if (this.denied.has(r.path)) return Result.fail(DENIED)
    const prefix = r.path === "/" ? "/" : `${r.path}/`
    return Result.succeed(
      [...this.nodes.keys()]
        .filter((p) => p.startsWith(prefix) && p !== r.path && !p.slice(prefix.length).includes("/"))
        .map((p) => p.slice(prefix.length))
        .sort()
    )
  }

  readFile = (path: string): Result.Result<Uint8Array, string> => {
    const first = this.resolve(path)
    if (first._tag === "found" && first.node.kind === "file" && this.onRead !== undefined) this.onRead(first.path)
    const r = this.resolve(path)
    if (r._tag === "error") return Result.fail(r.reason)
    if (r._tag === "missing") return Result.fail(this.notThere(r) ?? MISSING)
    if (r.node.kind === "dir") return Result.fail("is a directory, not a file")
    if (r.node.kind !== "file") return Result.fail(LOOP)
    if (this.denied.has(r.path)) return Result.fail(DENIED)
    return Result.succeed(r.node.content)
  }

  realPath = (path: string): string | undefined => {
    const r = this.resolve(path)
    return r._tag === "found" ? r.path : undefined
  }
}
