/** Turning a file's bytes into text, refusing what is too large or not text. */
import { Result } from "effect"

export const MAX_FILE_BYTES = 1024 * 1024

const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`

/** The size check, done before reading when the size is known. */
export const checkSize = (size: number): string | undefined =>
  size > MAX_FILE_BYTES
    ? `the file is ${mib(size)}, over moor's limit of 1 MiB for spec files: make it smaller`
    : undefined

const decoder = new TextDecoder("utf-8", { fatal: true })

/**
 * UTF-8 text without NUL bytes, BOM stripped. The failure is a sentence for the user, e.g.
 * `this is not a text file (a NUL byte at offset 3)`.
 */
export const decodeText = (bytes: Uint8Array): Result.Result<string, string> => {
  const tooBig = checkSize(bytes.byteLength)
  if (tooBig !== undefined) return Result.fail(tooBig)
  const nul = bytes.indexOf(0)
  if (nul !== -1) return Result.fail(`this is not a text file (a NUL byte at offset ${nul}); expected UTF-8 YAML text`)
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    return Result.fail("this is not a text file (invalid UTF-8); expected UTF-8 text")
  }
  return Result.succeed(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
}
