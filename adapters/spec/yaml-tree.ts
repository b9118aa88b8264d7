/**
 * YAML text to a small positioned tree: every mapping key, sequence item and scalar keeps its line
 * and column, so every later problem can say where it is. Aliases and merge keys (`<<: *base`) are
 * expanded here; syntax errors, duplicate keys and unresolved aliases come back with positions.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml"
import type { Pos } from "./problems.ts"

export type ScalarValue = string | number | boolean | null
export interface YScalar {
  readonly kind: "scalar"
  readonly value: ScalarValue
  /** The text as written, for numbers (`1.10` stays `1.10` when a string is wanted). */
  readonly source: string | undefined
  readonly pos: Pos
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
}
export interface YSeq {
  readonly kind: "seq"
  readonly items: ReadonlyArray<YNode>
  readonly pos: Pos
}
export type YNode = YScalar | YMap | YSeq

export interface YamlError {
  readonly pos: Pos | undefined
  readonly message: string
}
export interface ParsedYaml {
  /** Undefined for an empty document, or when the text has errors. */
  readonly root: YNode | undefined
  readonly errors: ReadonlyArray<YamlError>
}

/** Expanding aliases can grow a tree exponentially ("billion laughs"): stop well before that hurts. */
const MAX_NODES = 200_000
const MAX_DEPTH = 200

/** A human sentence from the yaml package's message, without its position suffix and excerpt. */
const cleanMessage = (message: string): string => {
  const cut = message.indexOf(" at line ")
  return (cut === -1 ? message : message.slice(0, cut)).trim()
}

export const parseYaml = (text: string): ParsedYaml => {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false })
  const posOf = (offset: number | undefined): Pos => {
    const p = lines.linePos(offset ?? 0)
    return { line: p.line, column: p.col }
  }
  const errors: Array<YamlError> = [...doc.errors, ...doc.warnings].map((e) => ({
    pos: posOf(e.pos[0]),
    message: cleanMessage(e.message)
  }))
  if (errors.length > 0) return { root: undefined, errors }
  if (doc.contents === null) return { root: undefined, errors: [] }
  const walker = new Walker(doc, posOf)
  const root = walker.node(doc.contents as Node, 0)
  if (walker.errors.length > 0) return { root: undefined, errors: walker.errors }
  return { root, errors: [] }
}

class Walker {
  readonly errors: Array<YamlError> = []
  private count = 0
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

  node(node: Node, depth: number): YNode {
    if (++this.count > MAX_NODES) return this.fail(node, "the document expands to too many nodes (aliases?)")
    if (depth > MAX_DEPTH) return this.fail(node, "the document is nested too deeply")
    if (isAlias(node)) {
      const target = node.resolve(this.doc)
      if (target === undefined) return this.fail(node, `unresolved alias *${node.source}`)
      return this.node(target as Node, depth + 1)
    }
    const pos = this.posOf(node.range?.[0])
    if (isScalar(node)) {
      const v = node.value
      if (v === null || typeof v === "string" || typeof v === "boolean") {
        return { kind: "scalar", value: v, source: node.source, pos }
      }
      if (typeof v === "number" && Number.isFinite(v)) return { kind: "scalar", value: v, source: node.source, pos }
      if (typeof v === "bigint") return { kind: "scalar", value: Number(v), source: node.source, pos }
      return this.fail(node, "unsupported YAML value (only strings, numbers, booleans and null are allowed)")
    }
    if (isSeq(node)) {
      return { kind: "seq", items: node.items.map((item) => this.child(item as Node | null, node, depth)), pos }
    }
    if (isMap(node)) return this.map(node.items, pos, depth)
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
        this.fail(value, "a merge key (<<) needs a mapping or a list of mappings")
        continue
      }
      out.push(...source.entries)
    }
    return out
  }
}
