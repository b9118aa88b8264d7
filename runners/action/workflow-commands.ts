/**
 * Printing text the Actions runner must not take for workflow commands. The runner reads a line as
 * one when, after leading blanks, it starts with `::` (`::error::`, `::add-mask::`,
 * `::stop-commands::`...), or when it holds `##[` anywhere (the legacy form). moor prints what it
 * does not control (a hook's output, an engine's error, a spec's text), so such text is wrapped in
 * GitHub's own pause, `::stop-commands::TOKEN` before and `::TOKEN::` after, with a random token the
 * text cannot hold: it is shown as written, and nothing in it is acted on. `@actions/core` escapes
 * what goes into a command (annotations, debug lines) itself; this is for plain output lines.
 */
import { randomBytes } from "node:crypto"

/** True when some line of `text` could be read as a workflow command. */
export const mayBeCommand = (text: string): boolean =>
  text.split(/\r\n|\r|\n/).some((line) => line.trimStart().startsWith("::") || line.includes("##["))

/** A stop token: random, so no text printed before it was made can hold it. */
export const newStopToken = (): string => `moor-${randomBytes(16).toString("hex")}`

/** `text` as lines the runner shows and does not act on. */
export const inert = (text: string, token: () => string = newStopToken): string => {
  if (!mayBeCommand(text)) return text
  let t = token()
  while (text.includes(t)) t = token()
  return `::stop-commands::${t}\n${text}\n::${t}::`
}
