/**
 * Who holds a lease or an engine lock: `machine:pid:token:key`. Hostname and PID alone do not say
 * which process that is: two containers can share both (the same `--hostname`, each runner PID 1 of
 * its own PID namespace), and a PID is reused once its process is gone. The key does: the kernel's
 * boot id (`/proc/sys/kernel/random/boot_id`), the PID namespace (`/proc/self/ns/pid`) and the
 * process's start time (field 22 of `/proc/<pid>/stat`, clock ticks since boot), as
 * `boot.pidns.start`.
 *
 * A holder is judged only from where it can be seen: a holder of this boot and this PID namespace
 * whose PID is gone, or now belongs to a process started at another time, is gone. Any other holder
 * (another machine, another container, an earlier boot) is waited for until its lease or lock expires.
 * Where `/proc` is missing (not Linux, so no PID namespaces), holders have no key and are judged by
 * hostname and PID.
 */
import { readFileSync, readlinkSync } from "node:fs"
import { hostname } from "node:os"

const attempt = <A>(f: () => A): A | undefined => {
  try {
    return f()
  } catch {
    return undefined
  }
}

/** `boot.pidns` of this process's kernel and PID namespace; undefined without `/proc`. */
let kernel: string | null | undefined
const kernelKey = (): string | undefined => {
  if (kernel === undefined) {
    const boot = attempt(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().replaceAll("-", ""))
    const ns = attempt(() => /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1])
    kernel = boot === undefined || boot === "" || ns === undefined ? null : `${boot.slice(0, 12)}.${ns}`
  }
  return kernel ?? undefined
}

/** Field 22 of `/proc/<pid>/stat` (the start time); counted after the command name, which may hold spaces. */
const startTicks = (pid: number): string | undefined => {
  const stat = attempt(() => readFileSync(`/proc/${pid}/stat`, "utf8"))
  if (stat === undefined) return undefined
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3]
}

/** The key of the process `pid` of this PID namespace (`boot.pidns.start`); undefined when there is none. */
export const processKey = (pid: number): string | undefined => {
  const k = kernelKey()
  const start = k === undefined ? undefined : startTicks(pid)
  return start === undefined ? undefined : `${k}.${start}`
}

/** This process as a holder, with `token` to tell its holders apart. */
export const holderIdOf = (token: string): string => {
  const key = processKey(process.pid)
  return `${hostname()}:${process.pid}:${token}${key === undefined ? "" : `:${key}`}`
}

interface Parsed {
  readonly machine: string
  readonly pid: number
  readonly key: string | undefined
}

const parse = (holder: string): Parsed | undefined => {
  const [machine, pid, , key, ...rest] = holder.split(":")
  if (machine === undefined || pid === undefined || !/^\d+$/.test(pid) || rest.length > 0) return undefined
  return { machine, pid: Number(pid), key }
}

/** A keyless holder on a machine without `/proc` (no PID namespaces there): this machine's PID `pid`. */
const keylessHere = (h: Parsed): boolean => h.key === undefined && kernelKey() === undefined && h.machine === hostname()

/**
 * A holder whose process is known to be gone (a runner killed with -9, a crashed cron job): its lease
 * or lock need not wait for its TTL. Only holders of this boot and this PID namespace are judged.
 */
export const holderIsGone = (holder: string): boolean => {
  const h = parse(holder)
  if (h === undefined || h.pid === process.pid) return false
  if (h.key !== undefined) {
    const k = kernelKey()
    return k !== undefined && h.key.startsWith(`${k}.`) && processKey(h.pid) !== h.key
  }
  if (!keylessHere(h)) return false
  try {
    process.kill(h.pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH"
  }
}

/**
 * A holder in this very process: an earlier pass of a watch loop or server whose engine went away
 * before it could remove its lock. This process's passes are kept apart by the repo's lease (taken
 * first), so its engine locks are its own to take over.
 */
export const isThisProcess = (holder: string): boolean => {
  const h = parse(holder)
  if (h === undefined || h.pid !== process.pid) return false
  return h.key !== undefined ? h.key === processKey(process.pid) : keylessHere(h)
}
