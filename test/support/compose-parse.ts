/** One Compose file through the loader in memory, for the spec tests: the app, its problems and warnings. */
import { Result } from "effect"
import { expect } from "vitest"
import { type ComposeInput, type ParsedCompose, parseCompose } from "../../adapters/spec/compose-app.ts"
import { formatProblem } from "../../adapters/spec/problems.ts"
import type { Host } from "../../core/model/desired.ts"

export const FILE = "shop/web/compose.yaml"
export const DIR = "/srv/shop/web"

export interface ParseOptions {
  readonly env?: Record<string, string>
  readonly files?: Record<string, string>
  readonly hosts?: ReadonlyArray<Host>
  readonly dotEnv?: string
  readonly dirName?: string
}

export const parse = (text: string, options: ParseOptions = {}): ParsedCompose => {
  const files = options.files ?? {}
  const input: ComposeInput = {
    text,
    file: FILE,
    dir: DIR,
    dirName: options.dirName ?? "web",
    env: options.env ?? {},
    hosts: options.hosts ?? [{ name: "local" }],
    ...(options.dotEnv === undefined ? {} : { dotEnv: { text: options.dotEnv, file: "shop/web/.env" } }),
    readFile: (relative) => {
      const content = files[relative]
      return content === undefined
        ? Result.fail("missing: no such file or directory")
        : Result.succeed(new TextEncoder().encode(content))
    }
  }
  return parseCompose(input)
}

/** The parsed app; fails the test with the problems when there are any. */
export const app = (text: string, options: ParseOptions = {}): Record<string, unknown> => {
  const parsed = parse(text, options)
  expect(parsed.problems.map(formatProblem)).toEqual([])
  return parsed.app as Record<string, unknown>
}
export const service = (text: string, options: ParseOptions = {}, name = "s"): Record<string, unknown> =>
  (app(text, options).services as Record<string, Record<string, unknown>>)[name] as Record<string, unknown>
export const errors = (text: string, options: ParseOptions = {}): Array<string> =>
  parse(text, options).problems.map(formatProblem)
export const warnings = (text: string, options: ParseOptions = {}): Array<string> =>
  parse(text, options).warnings.map(formatProblem)
