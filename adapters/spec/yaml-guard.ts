/**
 * What the yaml package does not do for moor's users: refuse a document nested too deeply before
 * its recursive parser meets it (a 1 MiB file of `[[[[...` costs it half a minute and ends in
 * "Maximum call stack size exceeded"), and turn its syntax errors into sentences that say where
 * the mistake is and what to do.
 */
import { type Document, isMap, isScalar, Lexer, type Node, visit, type YAMLError } from "yaml"

/** Deeper than this is refused (the tree walker refuses it too; the parser copes well beyond it). */
export const MAX_DEPTH = 200

export const tooDeep = `the document is nested more than ${MAX_DEPTH} levels deep; a Compose file needs far fewer: flatten it`

/** What YAML allows in a stream: tab, line feed, carriage return, NEL and the printable rest. */
const printable = (c: number): boolean =>
  c === 0x09 ||
  c === 0x0a ||
  c === 0x0d ||
  (c >= 0x20 && c <= 0x7e) ||
  c === 0x85 ||
  (c >= 0xa0 && c !== 0xfffe && c !== 0xffff)

/**
 * The first character YAML does not allow (a control character: binary garbage, or a terminal
 * escape sequence that would be echoed back in messages), with a sentence saying what to do.
 */
export const controlCharacter = (text: string): { readonly offset: number; readonly message: string } | undefined => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (printable(c)) continue
    const code = c.toString(16).padStart(4, "0")
    return {
      offset: i,
      message: `the control character U+${code.toUpperCase()} is not allowed in YAML: remove it, or write it as "\\u${code}" in a double-quoted string`
    }
  }
  return undefined
}

/** Tokens the lexer emits that take no room in the text. */
const ZERO_WIDTH = new Set(["\x02", "\x18", "\x1f"])

/**
 * The offset where the text provably nests deeper than `MAX_DEPTH`, or undefined. Counts open flow
 * collections (`[`, `{`) and, outside them, the sequence and key indicators (`- - -`, `? ? ?`) on
 * one line: each is a level of its own, so the count never exceeds the real depth. Stops at the
 * first offending token, so a hostile file costs no more than its first few hundred tokens.
 */
export const excessiveNesting = (text: string): number | undefined => {
  // Each level counted below is one of these characters: fewer of them than the limit cannot nest
  // that deep, and the lexer need not run (an ordinary Compose file has a few dozen).
  let indicators = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5b || c === 0x7b || c === 0x2d || c === 0x3f) indicators++
  }
  if (indicators <= MAX_DEPTH) return undefined
  let offset = 0
  let flow = 0
  let onLine = 0
  for (const token of new Lexer().lex(text)) {
    if (token === "[" || token === "{") flow++
    else if ((token === "]" || token === "}") && flow > 0) flow--
    else if (token === "\n" || token === "\r\n") onLine = 0
    else if (flow === 0 && (token === "-" || token === "?")) onLine++
    if (flow + onLine > MAX_DEPTH) return offset
    if (!ZERO_WIDTH.has(token)) offset += token.length
  }
  return undefined
}

export interface Explained {
  /** Where to point: the opening quote of an unclosed string, the repeated key, else the error's offset. */
  readonly offset: number
  readonly message: string
}

/** The quoted scalar the parser ran off the end of, to point at its opening quote. */
const unclosedQuote = (doc: Document, end: number): Node | undefined => {
  let found: Node | undefined
  visit(doc, {
    Scalar: (_key, node) => {
      if ((node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") && node.range?.[1] === end) found = node
    }
  })
  return found
}

/** The flow collection (`[...]`, `{...}`) the parser found unclosed at `end`, to point at its opening bracket. */
const unclosedFlow = (doc: Document, end: number): Node | undefined => {
  let found: Node | undefined
  const check = (node: Node & { flow?: boolean }) => {
    if (node.flow === true && node.range?.[1] === end) found = node
  }
  visit(doc, { Seq: (_key, node) => check(node), Map: (_key, node) => check(node) })
  return found
}

/** The key repeated at `offset`, and the offset of its first occurrence in the same mapping. */
const repeatedKey = (doc: Document, offset: number): { key: string; first: number } | undefined => {
  let found: { key: string; first: number } | undefined
  visit(doc, {
    Map: (_key, map) => {
      if (!isMap(map)) return
      const keys = map.items.map((pair) => (isScalar(pair.key) ? pair.key : undefined))
      const at = keys.findIndex((k) => k?.range?.[0] === offset)
      if (at === -1) return
      const key = keys[at]
      const first = keys.find((k) => k !== undefined && k.value === key?.value)
      found = { key: String(key?.value), first: first?.range?.[0] ?? offset }
    }
  })
  return found
}

/** A sentence for one of the yaml package's errors: what is wrong, and what to do. */
export const explainYamlError = (
  doc: Document,
  error: YAMLError,
  message: string,
  lineOf: (offset: number) => number
): Explained => {
  const offset = error.pos[0]
  if (message === "Maximum call stack size exceeded") return { offset, message: tooDeep }
  switch (error.code) {
    case "MISSING_CHAR": {
      if (!message.includes("quote")) return { offset, message }
      const quote = message.includes("'") ? "'" : '"'
      const start = unclosedQuote(doc, offset)?.range?.[0]
      return start === undefined
        ? { offset, message: `a string opened with ${quote} is never closed: end it with a matching ${quote}` }
        : {
            offset: start,
            message: `the string opened with ${quote} here is never closed (it runs on to line ${lineOf(offset)}): end it with a matching ${quote}`
          }
    }
    case "TAB_AS_INDENT":
      return {
        offset,
        message: "a tab is used for indentation: replace it with spaces (YAML indents with spaces only)"
      }
    case "DUPLICATE_KEY": {
      const repeated = repeatedKey(doc, offset)
      return repeated === undefined
        ? { offset, message: "a key is repeated in one mapping (Map keys must be unique): keep one" }
        : {
            offset,
            message: `"${repeated.key}" is given twice in one mapping (first at line ${lineOf(repeated.first)}): keep one`
          }
    }
    case "BAD_INDENT": {
      if (message.startsWith("All mapping items must start at the same column"))
        return { offset, message: `${message}: indent this key like the other keys of its mapping` }
      const flow = /^Flow (sequence|map) /.exec(message)
      if (flow === null) return { offset, message }
      const [what, open, close] = flow[1] === "map" ? ["mapping", "{", "}"] : ["list", "[", "]"]
      const start = unclosedFlow(doc, offset)?.range?.[0]
      return {
        offset: start ?? offset,
        message: `the ${what} opened with "${open}"${start === undefined ? "" : " here"} is not closed: end it with "${close}" (when it goes on over several lines, indent them more than its key)`
      }
    }
    default:
      return { offset, message }
  }
}
