/**
 * Splits a command string into words the way Compose does for `command: "..."`: whitespace separates,
 * single quotes are literal, double quotes allow `\"` `\\` `\$` escapes, a backslash outside quotes
 * escapes the next character. No variable expansion (interpolation already happened).
 */
import { Result } from "effect"

export const shellSplit = (text: string): Result.Result<Array<string>, string> => {
  const words: Array<string> = []
  let word = ""
  let inWord = false
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word)
      word = ""
      inWord = false
      i++
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1)
      if (end === -1) return Result.fail(`unterminated single quote in "${text}"`)
      word += text.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (c === '"') {
      let j = i + 1
      let closed = false
      while (j < text.length) {
        const d = text[j] as string
        if (d === "\\" && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1] as string)) {
          word += text[j + 1]
          j += 2
        } else if (d === '"') {
          closed = true
          break
        } else {
          word += d
          j++
        }
      }
      if (!closed) return Result.fail(`unterminated double quote in "${text}"`)
      inWord = true
      i = j + 1
    } else if (c === "\\") {
      if (i + 1 < text.length) word += text[i + 1]
      inWord = true
      i += 2
    } else {
      word += c
      inWord = true
      i++
    }
  }
  if (inWord) words.push(word)
  return Result.succeed(words)
}
