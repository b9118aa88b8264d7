/**
 * Spec problems as workflow annotations: each on its file and line, so GitHub shows it in the
 * pull request's diff. Files are made relative to the workspace (GitHub resolves annotation paths
 * from the repository root).
 */
import { isAbsolute, relative, resolve } from "node:path"
import type { SpecProblem } from "../../adapters/spec/SpecLoader.ts"

export interface Annotation {
  readonly message: string
  readonly properties: {
    readonly title: string
    readonly file: string
    readonly startLine?: number
    readonly startColumn?: number
  }
}

/** `file` as GitHub expects it: relative to `workspace` when inside it, with forward slashes. */
export const workspacePath = (file: string, workspace: string | undefined): string => {
  if (workspace === undefined || workspace === "") return file.replaceAll("\\", "/")
  const rel = relative(workspace, resolve(file))
  return (rel === "" || rel.startsWith("..") || isAbsolute(rel) ? file : rel).replaceAll("\\", "/")
}

export const annotationOf = (problem: SpecProblem, workspace: string | undefined, title: string): Annotation => ({
  message: problem.path === undefined || problem.path === "" ? problem.message : `${problem.path}: ${problem.message}`,
  properties: {
    title,
    file: workspacePath(problem.file, workspace),
    ...(problem.line === undefined ? {} : { startLine: problem.line }),
    ...(problem.column === undefined ? {} : { startColumn: problem.column })
  }
})
