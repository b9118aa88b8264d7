/**
 * A random valid service, with a random subset of Compose keys, has the same spec hash whatever the
 * order of its keys, and after a round trip through what `moor config` prints (150 cases, or
 * MOOR_PROPERTY_RUNS).
 */
import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { stringify } from "yaml"
import { parseCompose } from "../../adapters/spec/compose-app.ts"
import { formatProblem } from "../../adapters/spec/problems.ts"
import { defaultHashAlgorithms } from "../../core/container-spec.ts"
import { decodeDesired } from "../../core/decode.ts"
import { makePolicy } from "../../core/model/policy.ts"
import { prepareApp } from "../../core/plan/prepare.ts"
import { numRuns } from "../support/arbitraries.ts"

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/)
const value = fc.oneof(word, fc.stringMatching(/^[A-Za-z0-9 .:/=@%-]{0,12}$/), fc.constant("costs $$5"))
const port = fc.integer({ min: 1, max: 65535 })

/** Each Compose key with values in the forms people write. */
const keys: Record<string, fc.Arbitrary<unknown>> = {
  command: fc.oneof(fc.array(word, { minLength: 1, maxLength: 4 }), word),
  entrypoint: fc.array(word, { minLength: 1, maxLength: 3 }),
  environment: fc.oneof(
    fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/), value, { maxKeys: 4 }),
    fc.uniqueArray(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/), { maxLength: 4 }).map((ks) => ks.map((k) => `${k}=v`))
  ),
  labels: fc.dictionary(fc.stringMatching(/^com\.example\.[a-z]{1,6}$/), value, { maxKeys: 3 }),
  ports: fc.uniqueArray(port, { maxLength: 3 }).map((ps) => ps.map((p) => `${p}`)),
  expose: fc.uniqueArray(port, { maxLength: 3 }),
  restart: fc.constantFrom("no", "always", "unless-stopped", "on-failure", "on-failure:3"),
  healthcheck: fc.record({
    test: fc.constant(["CMD", "true"]),
    interval: fc.constantFrom("5s", "1m30s"),
    retries: fc.nat(5)
  }),
  cap_add: fc.uniqueArray(fc.constantFrom("NET_ADMIN", "SYS_TIME", "CHOWN"), { maxLength: 3 }),
  dns: fc.uniqueArray(fc.constantFrom("1.1.1.1", "8.8.8.8", "9.9.9.9"), { maxLength: 2 }),
  sysctls: fc.dictionary(fc.constantFrom("net.core.somaxconn", "net.ipv4.ip_forward"), fc.constantFrom("1", "1024")),
  ulimits: fc.record({ nofile: fc.record({ soft: fc.constant(1024), hard: fc.constant(2048) }) }),
  logging: fc.record({
    driver: fc.constant("json-file"),
    options: fc.record({ "max-size": fc.constantFrom("10m", "1g") })
  }),
  tmpfs: fc.uniqueArray(fc.constantFrom("/run", "/tmp"), { minLength: 1, maxLength: 2 }),
  user: fc.constantFrom("1000:1000", "nobody"),
  working_dir: fc.constantFrom("/app", "/srv"),
  hostname: word,
  init: fc.boolean(),
  read_only: fc.boolean(),
  privileged: fc.boolean(),
  shm_size: fc.constantFrom("64m", "1gb"),
  stop_grace_period: fc.constantFrom("10s", "1m"),
  extra_hosts: fc.constant(["host.docker.internal:host-gateway"]),
  volumes: fc.constant(["data:/data", "/srv/conf:/etc/conf:ro"]),
  container_name: word.map((w) => `c-${w}`),
  mem_limit: fc.constantFrom("512m", "1g"),
  deploy: fc.record({ resources: fc.record({ limits: fc.record({ cpus: fc.constantFrom("0.5", "2") }) }) })
}

const service = fc
  .subarray(Object.keys(keys), { minLength: 0 })
  .chain((chosen) => fc.record(Object.fromEntries(chosen.map((k) => [k, keys[k]!]))))
  .map((s) => ({ image: "moor-fixture/app:1", ...s }))

/** The same mapping with its keys in another order, at every depth. */
const shuffled = (value: unknown, seed: number): unknown => {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, seed))
  if (value === null || typeof value !== "object") return value
  const entries = Object.entries(value)
  const order = entries.map((e, i) => [e, (i * 7919 + seed) % 101] as const).sort((a, b) => a[1] - b[1])
  return Object.fromEntries(order.map(([[k, v]]) => [k, shuffled(v, seed + 1)]))
}

const load = (text: string) => {
  const parsed = parseCompose({
    text,
    file: "app/compose.yaml",
    dir: "/spec/app",
    dirName: "app",
    env: {},
    hosts: [{ name: "local" }],
    readFile: () => Result.fail("missing: no such file or directory")
  })
  expect(parsed.problems.map(formatProblem), text).toEqual([])
  return parsed
}

const specHash = (text: string): string => {
  const decoded = decodeDesired({ scope: "p", apps: [load(text).app] })
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return prepareApp(decoded.success.apps[0]!, makePolicy(), defaultHashAlgorithms).byName.get("web")!.specHash
}

const compose = (web: unknown) => ({ services: { web }, volumes: { data: {} } })

describe("a service's spec hash", () => {
  it("is the same after its keys are reordered and after a round trip through moor config", () => {
    fc.assert(
      fc.property(service, fc.nat(1000), (web, seed) => {
        const text = stringify(compose(web))
        const hash = specHash(text)
        expect(specHash(stringify(shuffled(compose(web), seed)))).toBe(hash)
        const printed = load(text).effective?.({ showValues: true })
        expect(specHash(stringify(printed))).toBe(hash)
      }),
      { numRuns: numRuns(150) }
    )
  })
})
