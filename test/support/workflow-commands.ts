/**
 * The Actions runner as it reads a step's output (actions/runner, ActionCommandManager): a line is
 * a command when, after leading blanks, it starts with `::name ...::`, or when it holds the legacy
 * `##[name ...]` anywhere; `stop-commands` pauses every command until a line naming its token.
 */
const REGISTERED = [
  "set-env",
  "set-output",
  "save-state",
  "add-mask",
  "add-path",
  "add-matcher",
  "remove-matcher",
  "debug",
  "warning",
  "error",
  "notice",
  "group",
  "endgroup",
  "echo",
  "stop-commands"
]

/** The commands the runner would act on in `stdout`, in order (`stop-commands` and its resume too). */
export const commandsOf = (stdout: string): Array<string> => {
  const registered = new Set(REGISTERED)
  let stopToken: string | undefined
  const acted: Array<string> = []
  const parse = (line: string): { name: string; data: string } | undefined => {
    const trimmed = line.trimStart()
    if (trimmed.startsWith("::")) {
      const end = trimmed.indexOf("::", 2)
      if (end !== -1) {
        const info = trimmed.slice(2, end)
        const name = info.split(" ")[0] ?? ""
        if (registered.has(name)) return { name, data: trimmed.slice(end + 2) }
      }
    }
    const at = line.indexOf("##[")
    if (at === -1) return undefined
    const close = line.indexOf("]", at)
    if (close === -1) return undefined
    const name = (line.slice(at + 3, close).split(" ")[0] ?? "").trim()
    return registered.has(name) ? { name, data: line.slice(close + 1) } : undefined
  }
  for (const line of stdout.split(/\r?\n/)) {
    const command = parse(line)
    if (command === undefined) continue
    if (stopToken !== undefined) {
      if (command.name === stopToken) {
        acted.push("resume")
        registered.delete(stopToken)
        stopToken = undefined
      }
      continue
    }
    if (command.name === "stop-commands") {
      stopToken = command.data
      registered.add(stopToken)
    }
    acted.push(command.name)
  }
  return acted
}
