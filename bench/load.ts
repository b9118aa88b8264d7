/**
 * Loading a spec of 1,000 apps written the way people write Compose files (self-hosting stacks with
 * container_name, bind mounts, anchors and merge keys, health checks, an override file, extends, a
 * .env with interpolation) from disk, and turning it into the desired model: `load_apps_1000_ms`
 * (the median of 5 loads after a first one) and `load_apps_1000_first_ms` (the first load), with the
 * median's two parts: reading the files (`_read_ms`) and decoding the model (`_decode_ms`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Result } from "effect"
import { loadSpec } from "../adapters/spec/load.ts"
import { nodeSpecFs } from "../adapters/spec/spec-fs.ts"
import { toDesiredState } from "../adapters/spec/desired.ts"
import { median, timeMs } from "./stats.ts"

const APPS = 1000

const selfHosted = (i: number) => `version: "3.8"
x-defaults: &defaults
  restart: unless-stopped
  environment: &env
    PUID: "1000"
    PGID: "1000"
    TZ: \${TZ:-Europe/Berlin}
  logging:
    driver: json-file
    options: { max-size: 10m, max-file: "3" }
services:
  app:
    <<: *defaults
    image: lscr.io/linuxserver/app${i}:latest
    container_name: app${i}
    environment:
      <<: *env
      WEBUI_PORT: "\${WEB_PORT:-8080}"
    volumes:
      - /mnt/docker-volumes/app${i}/config:/config
      - /mnt/media:/media:ro
    ports:
      - "\${WEB_PORT:-${10000 + i}}:8080"
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://localhost:8080/ || exit 1"]
      interval: 30s
      timeout: 5s
      retries: 3
      start_period: 20s
    labels:
      - traefik.enable=true
      - traefik.http.routers.app${i}.rule=Host(\`app${i}.example.com\`)
    networks: [proxy, default]
  db:
    <<: *defaults
    image: postgres:16-alpine
    container_name: app${i}-db
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: \${DB_PASSWORD}
      POSTGRES_DB: app
    volumes: ["db:/var/lib/postgresql/data"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U app"]
      interval: 10s
    expose: ["5432"]
    shm_size: 128mb
  cache:
    extends: db
    image: redis:7-alpine
    container_name: app${i}-cache
    environment: !reset {}
    healthcheck: !reset {}
    command: ["redis-server", "--appendonly", "yes"]
    depends_on:
      db: { condition: service_healthy }
networks:
  proxy:
    name: proxy
    external: true
volumes:
  db: {}
`

export const run = async (): Promise<ReadonlyArray<readonly [string, number]>> => {
  const root = mkdtempSync(join(tmpdir(), "moor-bench-load-"))
  try {
    for (let i = 0; i < APPS; i++) {
      const dir = join(root, `app${i}`)
      mkdirSync(dir)
      writeFileSync(join(dir, "compose.yaml"), selfHosted(i))
      writeFileSync(join(dir, ".env"), `DB_PASSWORD=secret${i}\nWEB_PORT=${10000 + i}\n`)
      if (i % 4 === 0) writeFileSync(join(dir, "compose.override.yaml"), "services:\n  app:\n    cpus: 1.5\n")
    }
    const split = { load: [] as Array<number>, decode: [] as Array<number> }
    const once = () => {
      const t0 = performance.now()
      const loaded = loadSpec(root, { fs: nodeSpecFs, env: { HOME: "/root" } })
      const t1 = performance.now()
      if (Result.isFailure(loaded)) throw new Error(loaded.failure.message)
      if (loaded.success.problems.length > 0) throw new Error(JSON.stringify(loaded.success.problems[0]))
      const desired = toDesiredState(loaded.success)
      split.load.push(t1 - t0)
      split.decode.push(performance.now() - t1)
      if (Result.isFailure(desired)) throw new Error(desired.failure.message)
      if (desired.success.apps.length !== APPS) throw new Error(`loaded ${desired.success.apps.length} apps`)
    }
    const first = await timeMs(once)
    const times: Array<number> = []
    for (let k = 0; k < 5; k++) times.push(await timeMs(once))
    return [
      ["load_apps_1000_ms", median(times)],
      ["load_apps_1000_first_ms", first],
      ["load_apps_1000_read_ms", median(split.load)],
      ["load_apps_1000_decode_ms", median(split.decode)]
    ]
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
