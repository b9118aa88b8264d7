/**
 * YAML text to a small positioned tree: every mapping key, sequence item and scalar keeps its line
 * and column, so every later problem can say where it is. Aliases and merge keys (`<<: *base`) are
 * expanded here; syntax errors, duplicate keys and unresolved aliases come back with positions.
 */
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit
} from "yaml"
import type { Pos } from "./problems.ts"
import { controlCharacter, excessiveNesting, explainYamlError, MAX_DEPTH, tooDeep } from "./yaml-guard.ts"

export type ScalarValue = string | number | boolean | null
/** Compose's merge tags: `!reset` drops what a base file set, `!override` replaces it instead of merging. */
export type MergeTag = "reset" | "override"
export interface YScalar {
  readonly kind: "scalar"
  readonly value: ScalarValue
  /** The text as written, for numbers (`1.10` stays `1.10` when a string is wanted). */
  readonly source: string | undefined
  readonly pos: Pos
  readonly tag?: MergeTag
}
export interface YEntry {
  readonly key: string
  readonly keyPos: Pos
  readonly value: YNode
}
export interface YMap {
  readonly kind: "map"
  readonly entries: ReadonlyArray<YEntry>
  readonly pos: Pos
  readonly tag?: MergeTag
}
export interface YSeq {
  readonly kind: "seq"
  readonly items: ReadonlyArray<YNode>
  readonly pos: Pos
  readonly tag?: MergeTag
}

/**
 * Where a tree comes from, when it is not the file being read: an included or extended file. Every
 * position in it carries its file (for messages), and readers resolve its relative paths against its
 * directory and interpolate its values with its own variables.
 */
export interface Origin {
  readonly file: string
  readonly dir: string
  readonly lookup?: (name: string) => string | undefined
}

/** `!reset` and `!override` on a mapping, a list or a scalar: kept as they are, the tag read by the walker. */
const MERGE_TAGS = (["!reset", "!override"] as const).flatMap((tag) => [
  { tag, collection: "map" as const, identify: (): boolean => false, resolve: (v: unknown) => v },
  { tag, collection: "seq" as const, identify: (): boolean => false, resolve: (v: unknown) => v },
  { tag, identify: (): boolean => false, resolve: (v: string) => v }
])
export type YNode = YScalar | YMap | YSeq

export interface YamlError {
  readonly pos: Pos | undefined
  readonly message: string
}
export interface ParsedYaml {
  /** Undefined for an empty document, or when the text has errors. */
  readonly root: YNode | undefined
  readonly errors: ReadonlyArray<YamlError>
  /** The document uses `!reset` or `!override`. */
  readonly tagged: boolean
}

/** Expanding aliases can grow a tree exponentially ("billion laughs"): stop well before that hurts. */
const MAX_NODES = 200_000

/** Thrown inside the walker to stop at the first limit reached: one error, not one per node left. */
class Limit {
  readonly error: YamlError
  constructor(error: YamlError) {
    this.error = error
  }
}

/** A human sentence from the yaml package's message, without its position suffix and excerpt. */
const cleanMessage = (message: string): string => {
  const cut = message.indexOf(" at line ")
  return (cut === -1 ? message : message.slice(0, cut)).trim()
}

/** Line and column of an offset, without the yaml package (for errors found before it parses). */
const posIn = (text: string, offset: number): Pos => {
  const before = text.slice(0, offset)
  const line = before.split("\n").length
  return { line, column: offset - before.lastIndexOf("\n") }
}

export const parseYaml = (text: string, origin?: Origin): ParsedYaml => {
  const control = controlCharacter(text)
  if (control !== undefined)
    return { root: undefined, errors: [{ pos: posIn(text, control.offset), message: control.message }], tagged: false }
  const deep = excessiveNesting(text)
  if (deep !== undefined)
    return { root: undefined, errors: [{ pos: posIn(text, deep), message: tooDeep }], tagged: false }
  const lines = new LineCounter()
  const doc = parseDocument(text, {
    lineCounter: lines,
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    customTags: MERGE_TAGS
  })
  const posOf = (offset: number | undefined): Pos => {
    const p = lines.linePos(offset ?? 0)
    return origin === undefined ? { line: p.line, column: p.col } : { line: p.line, column: p.col, origin }
  }
  const errors: Array<YamlError> = [...doc.errors, ...doc.warnings].map((e) => {
    const explained = explainYamlError(doc, e, cleanMessage(e.message), (offset) => posOf(offset).line)
    return { pos: posOf(explained.offset), message: explained.message }
  })
  if (errors.length > 0) return { root: undefined, errors, tagged: false }
  if (doc.contents === null) return { root: undefined, errors: [], tagged: false }
  const walker = new Walker(doc, posOf)
  try {
    const root = walker.node(doc.contents as Node, 0)
    if (walker.errors.length > 0) return { root: undefined, errors: walker.errors, tagged: false }
    return { root, errors: [], tagged: walker.tagged }
  } catch (e) {
    if (e instanceof Limit) return { root: undefined, errors: [e.error], tagged: false }
    throw e
  }
}

class Walker {
  readonly errors: Array<YamlError> = []
  /** A `!reset` or `!override` was seen. */
  tagged = false
  private count = 0
  /**
   * Each alias's anchored node, found in one walk of the document in order (the last anchor of that
   * name before the alias): `Alias.resolve` would walk the whole document again for every alias.
   */
  private targets: Map<Alias, Node | undefined> | undefined
  private readonly doc: Document
  private readonly posOf: (offset: number | undefined) => Pos
  constructor(doc: Document, posOf: (offset: number | undefined) => Pos) {
    this.doc = doc
    this.posOf = posOf
  }

  private fail(node: Node | null | undefined, message: string): YScalar {
    this.errors.push({ pos: this.posOf(node?.range?.[0]), message })
    return { kind: "scalar", value: null, source: undefined, pos: this.posOf(node?.range?.[0]) }
  }

  private stop(node: Node, message: string): never {
    throw new Limit({ pos: this.posOf(node.range?.[0]), message })
  }

  private resolve(alias: Alias): Node | undefined {
    if (this.targets === undefined) {
      const targets = new Map<Alias, Node | undefined>()
      const anchors = new Map<string, Node>()
      visit(this.doc, {
        Node: (_key, node) => {
          if (isAlias(node)) targets.set(node, anchors.get(node.source))
          else if (node.anchor !== undefined) anchors.set(node.anchor, node)
        }
      })
      this.targets = targets
    }
    return this.targets.get(alias)
  }

  node(node: Node, depth: number): YNode {
    if (++this.count > MAX_NODES) {
      this.stop(
        node,
        `the document expands to more than ${MAX_NODES} values through its aliases (*name); a Compose file needs far fewer: write the values out, or use fewer nested aliases`
      )
    }
    if (depth > MAX_DEPTH) this.stop(node, tooDeep)
    if (isAlias(node)) {
      const target = this.resolve(node)
      if (target === undefined)
        return this.fail(node, `unresolved alias *${node.source}: define the anchor &${node.source} before this line`)
      return this.node(target, depth + 1)
    }
    const pos = this.posOf(node.range?.[0])
    const tag =
      node.tag === "!reset" ? { tag: "reset" as const } : node.tag === "!override" ? { tag: "override" as const } : {}
    if (tag.tag !== undefined) this.tagged = true
    if (isScalar(node)) {
      const v = node.value
      if (tag.tag === "reset") return { kind: "scalar", value: null, source: undefined, pos, ...tag }
      if (v === null || typeof v === "string" || typeof v === "boolean") {
        return { kind: "scalar", value: v, source: node.source, pos, ...tag }
      }
      if (typeof v === "number" && Number.isFinite(v))
        return { kind: "scalar", value: v, source: node.source, pos, ...tag }
      if (typeof v === "bigint") return { kind: "scalar", value: Number(v), source: node.source, pos, ...tag }
      return this.fail(node, "unsupported YAML value (only strings, numbers, booleans and null are allowed)")
    }
    if (isSeq(node)) {
      return {
        kind: "seq",
        items: node.items.map((item) => this.child(item as Node | null, node, depth)),
        pos,
        ...tag
      }
    }
    if (isMap(node)) return { ...this.map(node.items, pos, depth), ...tag }
    return this.fail(node, "unsupported YAML node")
  }

  private child(item: Node | null, parent: Node, depth: number): YNode {
    if (item === null) return { kind: "scalar", value: null, source: undefined, pos: this.posOf(parent.range?.[0]) }
    return this.node(item, depth + 1)
  }

  private map(items: ReadonlyArray<unknown>, pos: Pos, depth: number): YMap {
    const entries: Array<YEntry> = []
    const merged: Array<YEntry> = []
    for (const pair of items) {
      if (!isPair(pair)) continue
      const keyNode = pair.key as Node | null
      const valueNode = pair.value as Node | null
      if (isScalar(keyNode) && typeof keyNode.value === "symbol") {
        merged.push(...this.mergeSources(valueNode, depth))
        continue
      }
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
        this.fail(keyNode, "a mapping key must be a plain string")
        continue
      }
      const keyPos = this.posOf(keyNode.range?.[0])
      const value: YNode =
        valueNode === null
          ? { kind: "scalar", value: null, source: undefined, pos: keyPos }
          : this.node(valueNode, depth + 1)
      entries.push({ key: String(keyNode.value), keyPos, value })
    }
    // Keys written in the mapping win over merged ones; among merged sources, the first wins.
    const seen = new Set(entries.map((e) => e.key))
    for (const entry of merged) {
      if (seen.has(entry.key)) continue
      seen.add(entry.key)
      entries.push(entry)
    }
    return { kind: "map", entries, pos }
  }

  private mergeSources(value: Node | null, depth: number): ReadonlyArray<YEntry> {
    if (value === null) return []
    const resolved = this.node(value, depth + 1)
    const sources = resolved.kind === "seq" ? resolved.items : [resolved]
    const out: Array<YEntry> = []
    for (const source of sources) {
      if (source.kind !== "map") {
        this.fail(
          value,
          "a merge key (<<) needs a mapping or a list of mappings: merge an anchored mapping (<<: *name)"
        )
        continue
      }
      out.push(...source.entries)
    }
    return out
  }
}
