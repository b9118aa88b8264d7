/**
 * HTTP to an ssh:// engine: each HTTP connection is an SSH connection running `docker system
 * dial-stdio` on the host (what the docker CLI does), whose stdin and stdout carry the engine's HTTP.
 *
 * It replaces docker-modem's own, which leaks the SSH connection of a request that is abandoned (a
 * call interrupted because another one failed, or timed out): ssh2 closes a session only once its
 * output has been read, and an abandoned request no longer reads it, so the connection (and
 * `dial-stdio` on the host) stayed open for good, and a CLI run could not exit. Here the SSH
 * connection ends as soon as the HTTP side is done with the session, or the remote command has ended.
 * ssh2 is loaded on the first connection only.
 */
import * as http from "node:http"
import type { Duplex } from "node:stream"
import type { ConnectConfig } from "ssh2"

export const DIAL_STDIO = "docker system dial-stdio"

export class SshAgent extends http.Agent {
  readonly config: ConnectConfig
  constructor(config: ConnectConfig) {
    super({ keepAlive: false })
    this.config = config
  }

  override createConnection(
    _options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void
  ): Duplex | null | undefined {
    let settled = false
    const settle = (err: Error | null, stream?: Duplex) => {
      if (settled) return
      settled = true
      callback?.(err, stream as Duplex)
    }
    import("ssh2").then(
      ({ default: ssh2 }) => {
        const client = new ssh2.Client()
        const end = () => client.end()
        client.once("ready", () => {
          client.exec(DIAL_STDIO, (err, channel) => {
            if (err !== undefined && err !== null) {
              end()
              return settle(err)
            }
            // ssh2's destroy only asks the host to close the session, which then waits for its
            // output to be read: whoever destroys the socket is done with it, so the connection ends.
            const destroy = channel.destroy.bind(channel)
            channel.destroy = () => {
              destroy()
              end()
              return channel
            }
            // The remote command ended: what is left of its output is drained so the session closes.
            channel.once("exit", () => channel.resume())
            channel.once("close", end)
            settle(null, channel)
          })
        })
        client.once("error", (e) => {
          end()
          settle(e)
        })
        client.once("close", () => settle(new Error("ssh: the connection closed before the session started")))
        client.connect(this.config)
      },
      (e: unknown) => settle(e instanceof Error ? e : new Error(String(e)))
    )
    return undefined
  }
}
