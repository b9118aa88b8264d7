/**
 * Byte plumbing for engine streams: demultiplexing stdout/stderr frames (docker-modem's
 * `demuxStream`), splitting into lines, and keeping only the tail of a long output.
 */
import { Writable, type Readable } from "node:stream"
import type Dockerode from "dockerode"

type DockerModem = Dockerode["modem"]

/** Keeps the last `limit` bytes written to it. */
export class TailBuffer {
  readonly limit: number
  private chunks: Array<Buffer> = []
  private size = 0
  constructor(limit: number) {
    this.limit = limit
  }
  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.size > this.limit) {
      const first = this.chunks[0]
      if (first === undefined) break
      const excess = this.size - this.limit
      if (first.length <= excess) {
        this.chunks.shift()
        this.size -= first.length
      } else {
        this.chunks[0] = first.subarray(excess)
        this.size -= excess
      }
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8")
  }
}

/** Splits chunks into lines ("\n" or "\r\n"); `flush` returns an unterminated last line. */
export class LineSplitter {
  private rest = ""
  push(chunk: Buffer | string): Array<string> {
    const text = this.rest + (typeof chunk === "string" ? chunk : chunk.toString("utf8"))
    const parts = text.split("\n")
    this.rest = parts.pop() ?? ""
    return parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l))
  }
  flush(): Array<string> {
    const last = this.rest
    this.rest = ""
    return last === "" ? [] : [last.endsWith("\r") ? last.slice(0, -1) : last]
  }
}

const sink = (onChunk: (chunk: Buffer) => void): Writable =>
  new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      onChunk(typeof chunk === "string" ? Buffer.from(chunk) : chunk)
      done()
    }
  })

/**
 * Feeds the payloads of a multiplexed (non-TTY) engine stream to `onStdout` / `onStderr`. A stream
 * that is not multiplexed (a TTY container) is passed through as stdout by docker-modem.
 */
export const demux = (
  modem: DockerModem,
  source: Readable,
  onStdout: (chunk: Buffer) => void,
  onStderr: (chunk: Buffer) => void
): void => {
  modem.demuxStream(source, sink(onStdout), sink(onStderr))
}
