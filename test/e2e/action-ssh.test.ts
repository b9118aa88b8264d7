/**
 * The bundled Action reaching its engine over ssh:// (docker-host input, key in an agent at
 * SSH_AUTH_SOCK), as a workflow does with a deploy key: the bundle leaves out ssh2's optional native
 * parts and SFTP and loads ssh2 lazily, so this proves the ssh path still works from dist/action.js.
 * The ssh server is ssh2's own (no sshd needed): it accepts one key and runs only
 * `docker system dial-stdio`, piping the channel to the local engine's socket, as sshd + the docker
 * CLI do on a real host. The agent is ssh2's agent protocol over a unix socket. Host port 19522.
 * moor checks the server's host key against ~/.ssh/known_hosts, as a workflow sets it up
 * (`ssh-keyscan HOST >> ~/.ssh/known_hosts`): HOME is a directory of this test holding that file.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createConnection, createServer, type Server as NetServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import ssh2 from "ssh2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanupScope, newScope, raw, requireFixtures, SOCKET } from "../support/docker-e2e.ts"
import { buildCheckout, type Checkout, runAction } from "../support/action-support.ts"

const SSH_PORT = 19522
const WEB_PORT = 19502
const scope = newScope()
const t = `as${randomBytes(3).toString("hex")}`

let checkout: Checkout
let workspace: string
let sshServer: ssh2.Server
let agentServer: NetServer
let home: string
const agentSocket = () => join(workspace, "agent.sock")
const commands: Array<string> = []

const parsed = (key: string): ssh2.ParsedKey => {
  const k = ssh2.utils.parseKey(key)
  if (k instanceof Error || Array.isArray(k)) throw new Error(`test key: ${String(k)}`)
  return k
}

const startSshServer = (clientKey: ssh2.ParsedKey, hostKey: string): Promise<ssh2.Server> =>
  new Promise((resolve, reject) => {
    const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
      client.on("authentication", (ctx) => {
        if (
          ctx.method !== "publickey" ||
          ctx.username !== "deploy" ||
          ctx.key.algo !== clientKey.type ||
          !ctx.key.data.equals(clientKey.getPublicSSH())
        )
          return ctx.reject(["publickey"])
        if (ctx.signature === undefined || ctx.blob === undefined) return ctx.accept()
        return clientKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject()
      })
      client.on("ready", () => {
        client.on("session", (accept) => {
          const session = accept()
          session.on("exec", (acceptExec, rejectExec, info) => {
            commands.push(info.command)
            if (info.command !== "docker system dial-stdio") return rejectExec()
            const channel = acceptExec()
            const engine = createConnection(SOCKET)
            channel.pipe(engine).pipe(channel)
            engine.on("error", () => channel.destroy())
            channel.on("close", () => engine.destroy())
          })
        })
      })
      client.on("error", () => undefined)
    })
    server.once("error", reject)
    server.listen(SSH_PORT, "127.0.0.1", () => resolve(server))
  })

/** An ssh agent holding one key, on a unix socket (what `ssh-agent` + `ssh-add` give a workflow). */
const startAgent = (key: ssh2.ParsedKey, path: string): Promise<NetServer> =>
  new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      const protocol = new ssh2.AgentProtocol(false)
      protocol.on("identities", (req) => protocol.getIdentitiesReply(req, [key]))
      protocol.on("sign", (req, _pubKey, data, options) => {
        const signature = key.sign(data, options.hash)
        if (signature instanceof Error) protocol.failureReply(req)
        else protocol.signReply(req, signature)
      })
      socket.pipe(protocol).pipe(socket)
      socket.on("error", () => undefined)
    })
    server.once("error", reject)
    server.listen(path, () => resolve(server))
  })

beforeAll(async () => {
  await requireFixtures()
  checkout = await buildCheckout()
  workspace = mkdtempSync(join(tmpdir(), "moor-action-ssh-"))
  const clientKey = parsed(ssh2.utils.generateKeyPairSync("ed25519").private)
  const hostKey = ssh2.utils.generateKeyPairSync("ed25519")
  sshServer = await startSshServer(clientKey, hostKey.private)
  home = mkdtempSync(join(tmpdir(), "moor-action-ssh-home-"))
  mkdirSync(join(home, ".ssh"), { mode: 0o700 })
  writeFileSync(join(home, ".ssh", "known_hosts"), `[127.0.0.1]:${SSH_PORT} ${hostKey.public.trim()}\n`)
  agentServer = await startAgent(clientKey, agentSocket())
  mkdirSync(join(workspace, "deploy", `${t}web`), { recursive: true })
  writeFileSync(
    join(workspace, "deploy", `${t}web`, "compose.yaml"),
    `services:\n  web:\n    image: moor-fixture/app:1\n    ports:\n      - "127.0.0.1:${WEB_PORT}:8080"\n`
  )
})

afterAll(async () => {
  await cleanupScope(scope)
  sshServer?.close()
  agentServer?.close()
  checkout?.remove()
  if (workspace !== undefined) rmSync(workspace, { recursive: true, force: true })
  if (home !== undefined) rmSync(home, { recursive: true, force: true })
})

describe("the bundled Action over ssh://", () => {
  const inputs = (mode: string) => ({
    spec: "deploy",
    mode,
    scope,
    repo: "memory",
    "docker-host": `ssh://deploy@127.0.0.1:${SSH_PORT}`
  })

  it("plans through the ssh server, authenticated by the key in the agent", async () => {
    const plan = await runAction(checkout, workspace, inputs("plan"), { SSH_AUTH_SOCK: agentSocket(), HOME: home })
    expect(plan.code, plan.stdout + plan.stderr).toBe(0)
    expect(plan.outputs.changed).toBe("true")
    expect(commands.length).toBeGreaterThan(0)
    expect(new Set(commands)).toEqual(new Set(["docker system dial-stdio"]))
  })

  it("applies through the ssh server: the app runs on the engine behind it", async () => {
    const before = commands.length
    const apply = await runAction(checkout, workspace, inputs("apply"), { SSH_AUTH_SOCK: agentSocket(), HOME: home })
    expect(apply.code, apply.stdout + apply.stderr).toBe(0)
    expect(commands.length).toBeGreaterThan(before)
    const containers = await raw.listContainers({ filters: { label: [`moor.scope=${scope}`] } })
    expect(containers.map((c) => [c.Names[0], c.State])).toEqual([[`/${t}web-web-1`, "running"]])
    expect(await (await fetch(`http://127.0.0.1:${WEB_PORT}/`)).text()).toContain("moor-fixture app version 1")
  })

  it("without the key in an agent the host is unknown: the step fails saying so, nothing is changed", async () => {
    const before = commands.length
    const run = await runAction(checkout, workspace, inputs("plan"), { HOME: home })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/^::error::host local is unknown: /m)
    expect(commands.length).toBe(before)
  })
  it("a server whose host key is not in known_hosts is refused with its fingerprint: the step fails, nothing is sent", async () => {
    const before = commands.length
    const empty = mkdtempSync(join(tmpdir(), "moor-action-ssh-nohome-"))
    try {
      const run = await runAction(checkout, workspace, inputs("plan"), { SSH_AUTH_SOCK: agentSocket(), HOME: empty })
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(
        /^::error::host local is unknown: .*ssh: the host key of \[127\.0\.0\.1\]:19522 is not known: it offered ED25519 key SHA256:[A-Za-z0-9+/]{43}, /m
      )
      expect(commands.length).toBe(before)
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
