/**
 * What the Action prints cannot become a workflow command: a hook's output line starting with `::`
 * (or holding `##[`) is shown, not acted on, and the Action's own annotations still work after it.
 * The runner is modelled as it parses output (test/support/workflow-commands.ts).
 */
import * as core from "@actions/core"
import { Effect, Logger } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { actionIO, actionLogger } from "../../runners/action/io.ts"
import { inert, mayBeCommand } from "../../runners/action/workflow-commands.ts"
import { commandsOf } from "../support/workflow-commands.ts"

const captured = (f: () => void): string => {
  let out = ""
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString()
    return true
  })
  try {
    f()
  } finally {
    spy.mockRestore()
  }
  return out
}

afterEach(() => {
  process.exitCode = undefined
})

/** A failed hook's result line as the Action prints it, its output holding would-be commands. */
const hostile = [
  "  FAIL local: > run hook db:hooks/leak.sh in db-s-1 for api (on_start hook for api) 12ms",
  "        hook hooks/leak.sh exited with 1: ::error::not from moor",
  "::add-mask::hide-this",
  "   ::set-output name=changed::false",
  "::stop-commands::guessed",
  "::error title=owned::after a guessed stop",
  "::guessed::",
  "progress 50% ##[warning]legacy form mid-line"
].join("\n")

describe("the Action's plain output", () => {
  it("a hook's output with command lines is shown as written and not acted on", () => {
    const out = captured(() => actionIO.info(hostile))
    expect(out).toContain(hostile)
    expect(commandsOf(out)).toEqual(["stop-commands", "resume"])
  })

  it("commands work again right after: the Action's own annotations and failure are acted on", () => {
    const out = captured(() => {
      actionIO.info(hostile)
      core.error("a spec problem", { file: "deploy/db/compose.yaml", startLine: 3 })
      actionIO.setFailed("host local: failed")
    })
    expect(commandsOf(out)).toEqual(["stop-commands", "resume", "error", "error"])
  })

  it("Effect's info logs go the same way", () => {
    const out = captured(() =>
      Effect.runSync(
        Effect.logInfo(`repo: record actions: failed\n::warning::from a log`).pipe(
          Effect.provide(Logger.layer([actionLogger]))
        )
      )
    )
    expect(out).toContain("::warning::from a log")
    expect(commandsOf(out)).toEqual(["stop-commands", "resume"])
  })

  it("text that cannot be a command is printed as it is; a token the text holds is not used", () => {
    expect(captured(() => actionIO.info("  ok   local: + create web-1 (done)\n"))).toBe(
      "  ok   local: + create web-1 (done)\n"
    )
    expect(mayBeCommand("a :: b")).toBe(false)
    expect(mayBeCommand(" \t::error::x")).toBe(true)
    const tokens = ["held", "fresh"]
    expect(inert("::held::\nx", () => tokens.shift() ?? "none")).toBe("::stop-commands::fresh\n::held::\nx\n::fresh::")
  })
})
