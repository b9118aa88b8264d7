/**
 * Problems found in a spec, each with the file, line and column it comes from, and the key path
 * inside the file (`services.web.ports[0]`). A `Problems` collector gathers them while a file is read.
 */

export interface SpecProblem {
  /** The file as the user would name it: the spec path as given, joined with the file's relative path. */
  readonly file: string
  readonly line?: number
  readonly column?: number
  /** The key path inside the file, e.g. `services.web.privileged`. */
  readonly path?: string
  readonly message: string
}

export interface Pos {
  readonly line: number
  readonly column: number
  /**
   * The file the position is in, as shown; its directory (relative paths in it resolve there); and
   * its own variables when it belongs to an included project.
   */
  readonly origin?: {
    readonly file: string
    readonly dir?: string
    readonly lookup?: (name: string) => string | undefined
  }
}

/** `shop/web/compose.yaml:12:5: services.web.privileged: moor does not support "privileged"` */
export const formatProblem = (p: SpecProblem): string => {
  const where =
    p.line === undefined ? p.file : p.column === undefined ? `${p.file}:${p.line}` : `${p.file}:${p.line}:${p.column}`
  return p.path === undefined || p.path === "" ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`
}

/** Collects the problems and warnings of one file. */
export class Problems {
  readonly file: string
  readonly errors: Array<SpecProblem> = []
  readonly warnings: Array<SpecProblem> = []
  constructor(file: string) {
    this.file = file
  }
  /** Records an error; returns `undefined` so a reader can `return problems.fail(...)`. */
  fail(pos: Pos | undefined, path: string, message: string): undefined {
    this.errors.push(make(this.file, pos, path, message))
    return undefined
  }
  warn(pos: Pos | undefined, path: string, message: string): void {
    this.warnings.push(make(this.file, pos, path, message))
  }
  get ok(): boolean {
    return this.errors.length === 0
  }
}

const make = (file: string, pos: Pos | undefined, path: string, message: string): SpecProblem => ({
  file: pos?.origin?.file ?? file,
  ...(pos === undefined ? {} : { line: pos.line, column: pos.column }),
  ...(path === "" ? {} : { path }),
  message
})

/** Joins a key path: `services` + `web` -> `services.web`; numbers become `[n]`. */
export const at = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`
