/**
 * Networks on a real engine, where a network's name is not unique: before API 1.44, two runners
 * creating the same network at the same moment both succeed (`CheckDuplicate` is best effort: on
 * Docker 20.10, 8 concurrent creates made 8 networks of one name), and from then on every use of the
 * name fails with "network X is ambiguous". So `createNetwork` looks at the networks of its name
 * right after creating one, and duplicates are folded into one:
 *
 * - only duplicates that all carry the same `moor.scope` label are folded (anything else was made by
 *   someone else: it is left alone, and the ambiguity is reported with what to do);
 * - the networks a running container uses stay (the engine refuses to remove them anyway); when none
 *   is in use, the oldest stays (then the lowest id), so every runner that folds keeps the same one;
 * - a created container names its networks by name until it starts, so removing an unused duplicate
 *   never strands one.
 *
 * A create whose network was folded away answers `conflict`, as the in-memory engine (and Docker
 * 25+) answers a create of a name that exists. A start or a removal that meets an ambiguous name
 * folds the duplicates, then tries once more.
 */
import { Effect } from "effect"
import { type DockerError, type NetworkSpec, retold } from "./Docker.ts"
import { networkBody } from "./create-body.ts"
import { call, type CallOptions, type Connection } from "./connection.ts"
import { arr, rec, str, strMap } from "./parse-engine.ts"
import { type CallContext, type EngineCall, engineError } from "./translate-error.ts"

type Use = (
  host: string,
  op: EngineCall,
  target?: string
) => Effect.Effect<{ readonly conn: Connection; readonly ctx: CallContext }, DockerError>

const SCOPE = "moor.scope"

/** "network X is ambiguous (2 matches found on name)": the name, when that is what the engine said. */
export const ambiguousNetwork = (e: DockerError): string | undefined =>
  /network (\S+) is ambiguous/.exec(e.message)?.[1]

interface Found {
  readonly id: string
  readonly created: string
  readonly scope: string | undefined
}

export const makeLiveNetworks = (use: Use) => {
  const request = (host: string, op: EngineCall, target: string, options: CallOptions) =>
    Effect.flatMap(use(host, op, target), ({ conn, ctx }) => call(conn, ctx, options))

  const named = (host: string, name: string): Effect.Effect<ReadonlyArray<Found>, DockerError> =>
    Effect.map(
      request(host, "networks.list", name, { method: "GET", path: "/networks", query: { filters: { name: [name] } } }),
      (list) =>
        arr(list)
          .map(rec)
          .filter((n) => str(n.Name) === name)
          .map((n) => ({ id: str(n.Id) ?? "", created: str(n.Created) ?? "", scope: strMap(n.Labels)[SCOPE] }))
    )

  const inUse = (host: string, n: Found): Effect.Effect<boolean, DockerError> =>
    Effect.map(
      request(host, "network.inspect", n.id, { method: "GET", path: `/networks/${encodeURIComponent(n.id)}` }),
      (raw) => Object.keys(rec(rec(raw).Containers)).length > 0
    )

  const removeById = (host: string, id: string) =>
    Effect.ignore(
      request(host, "network.remove", id, {
        method: "DELETE",
        path: `/networks/${encodeURIComponent(id)}`,
        alsoOk: [404]
      })
    )

  /**
   * Folds the networks named `name` into one when moor made them all for one scope; returns the ids
   * that are left, or undefined when there was nothing to fold or they are not moor's to fold.
   */
  const fold = (host: string, name: string): Effect.Effect<ReadonlyArray<string> | undefined, DockerError> =>
    Effect.gen(function* () {
      const found = yield* named(host, name)
      const scopes = new Set(found.map((n) => n.scope))
      if (found.length < 2 || scopes.size !== 1 || scopes.has(undefined)) return undefined
      const used = yield* Effect.forEach(found, (n) => inUse(host, n), { concurrency: 4 })
      const oldest = [...found].sort((a, b) =>
        a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1
      )[0]
      const keep = new Set(
        used.some((u) => u) ? found.filter((_, i) => used[i] === true).map((n) => n.id) : [oldest?.id ?? ""]
      )
      yield* Effect.forEach(
        found.filter((n) => !keep.has(n.id)),
        (n) => removeById(host, n.id),
        { concurrency: 4 }
      )
      return [...keep]
    })

  /** `attempt`, folded and tried once more when it meets an ambiguous network name. */
  const unambiguous = <A>(host: string, attempt: Effect.Effect<A, DockerError>): Effect.Effect<A, DockerError> =>
    Effect.catchIf(
      attempt,
      (e) => ambiguousNetwork(e) !== undefined,
      (e) => {
        const name = ambiguousNetwork(e) ?? ""
        return Effect.flatMap(fold(host, name), (left) =>
          left !== undefined && left.length === 1
            ? attempt
            : Effect.fail(
                retold(
                  e,
                  `${e.message}: several networks have that name, and they are not duplicates moor may fold (made for other scopes or by someone else, or each in use): keep one (docker network ls --filter name=${name}, then docker network rm the others)`
                )
              )
        )
      }
    )

  const createNetwork = (host: string, spec: NetworkSpec): Effect.Effect<void, DockerError> =>
    Effect.gen(function* () {
      const created = yield* request(host, "network.create", spec.name, {
        method: "POST",
        path: "/networks/create",
        // CheckDuplicate (in networkBody) is best effort: API 1.41 can still make two of one name.
        body: networkBody(spec)
      })
      const id = str(rec(created).Id)
      const left = yield* fold(host, spec.name)
      if (id !== undefined && left !== undefined && !left.includes(id)) {
        const { ctx } = yield* use(host, "network.create", spec.name)
        return yield* engineError(
          ctx,
          "conflict",
          `network with name ${spec.name} already exists (created at the same moment by another runner; that one is kept)`,
          409
        )
      }
    })

  const removeNetwork = (host: string, name: string): Effect.Effect<void, DockerError> =>
    Effect.asVoid(
      unambiguous(
        host,
        request(host, "network.remove", name, { method: "DELETE", path: `/networks/${encodeURIComponent(name)}` })
      )
    )

  return { createNetwork, removeNetwork, unambiguous }
}
