import { describe, expect, it } from "vitest"
import { formatProblem } from "../../adapters/spec/problems.ts"
import { app, errors, FILE, parse, service } from "../support/compose-parse.ts"

describe("Compose services: every supported key", () => {
  it("maps the short forms", () => {
    const s = service(
      `
services:
  s:
    image: moor-fixture/app:1
    command: sh -c 'echo "a b"; sleep 1'
    entrypoint: /bin/tini --
    environment:
      - A=1
      - EMPTY=
      - FROM_ENV
      - NOT_SET
    ports:
      - "8080:80"
      - 127.0.0.1:9000:9000/udp
      - 8081-8082:90-91
      - "3000"
      - "[::1]:7000:7000"
    volumes:
      - data:/data:ro
      - ./conf:/etc/app
      - /var/log/app:/logs:rw
      - /cache
    networks: [front, default]
    labels: [team=shop, "flag"]
    healthcheck:
      test: wget -q -O- http://127.0.0.1:8080/healthz
      interval: 1m30s
      timeout: 500ms
      start_period: 1.5s
      start_interval: 2s
      retries: 5
    restart: unless-stopped
    depends_on: [db]
    user: 1000
    working_dir: /app
    hostname: web-1
    init: true
    stop_signal: SIGINT
    stop_grace_period: 1m
    extra_hosts: ["gateway:10.0.0.1", "other=10.0.0.2", "v6=::1"]
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    read_only: true
    tmpfs: /run
    mem_limit: 512m
    mem_reservation: 128m
    cpus: 0.5
    pids_limit: 100
  db:
    image: moor-fixture/app:1
volumes:
  data:
networks:
  front:
`,
      { env: { FROM_ENV: "x" } }
    )
    expect(s).toEqual({
      image: "moor-fixture/app:1",
      command: ["sh", "-c", 'echo "a b"; sleep 1'],
      entrypoint: ["/bin/tini", "--"],
      environment: { A: "1", EMPTY: "", FROM_ENV: "x" },
      ports: [
        { target: 80, published: 8080 },
        { target: 9000, published: 9000, hostIp: "127.0.0.1", protocol: "udp" },
        { target: 90, published: 8081 },
        { target: 91, published: 8082 },
        { target: 3000 },
        { target: 7000, published: 7000, hostIp: "::1" }
      ],
      mounts: [
        { type: "volume", source: "data", target: "/data", readOnly: true },
        { type: "bind", source: "/srv/shop/web/conf", target: "/etc/app" },
        { type: "bind", source: "/var/log/app", target: "/logs" },
        { type: "volume", target: "/cache" }
      ],
      networks: { default: {}, front: {} },
      labels: { flag: "", team: "shop" },
      healthcheck: {
        test: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/healthz"],
        intervalMs: 90_000,
        timeoutMs: 500,
        startPeriodMs: 1500,
        startIntervalMs: 2000,
        retries: 5
      },
      restart: "unless-stopped",
      dependsOn: { db: { condition: "service_started" } },
      user: "1000",
      workingDir: "/app",
      hostname: "web-1",
      init: true,
      stopSignal: "SIGINT",
      stopGracePeriodMs: 60_000,
      extraHosts: ["gateway:10.0.0.1", "other:10.0.0.2", "v6:::1"],
      capAdd: ["NET_ADMIN"],
      capDrop: ["ALL"],
      readOnly: true,
      tmpfs: ["/run"],
      resources: { cpus: 0.5, memoryBytes: 512 * 1024 ** 2, memoryReservationBytes: 128 * 1024 ** 2, pids: 100 }
    })
  })

  it("maps the long forms", () => {
    const s = service(`
services:
  s:
    image: moor-fixture/app:1
    command: ["sh", "-c", "echo $$HOME"]
    entrypoint: ["/entry"]
    environment:
      A: 1
      B: true
      C: "text"
      D:
    ports:
      - target: 80
        published: "8080"
        host_ip: 127.0.0.1
        protocol: udp
        mode: host
        name: web
      - target: 81
    volumes:
      - type: volume
        source: data
        target: /data
        read_only: true
      - type: bind
        source: ../shared
        target: /shared
      - type: tmpfs
        target: /scratch
      - type: volume
        target: /anon
    networks:
      front:
        aliases: [www, site]
        ipv4_address: 172.30.0.10
      back: null
    labels:
      team: shop
      tier: 1
    healthcheck:
      test: ["CMD", "true"]
      disable: false
    depends_on:
      db:
        condition: service_healthy
        required: false
      job:
        condition: service_completed_successfully
    extra_hosts:
      gateway: 10.0.0.1
      multi: ["10.0.0.2", "10.0.0.3"]
    tmpfs: [/run, /tmp]
    deploy:
      resources:
        limits:
          cpus: "1.5"
          memory: 1g
          pids: 50
        reservations:
          memory: 256m
    x-moor:
      health_timeout: 45s
    x-notes: ignored
  db:
    image: moor-fixture/app:1
  job:
    image: moor-fixture/app:1
volumes:
  data:
    driver: local
    driver_opts: { type: tmpfs, device: tmpfs }
    labels: [backup=daily]
    name: shop-data
  old:
    external: true
networks:
  front:
    driver: bridge
    internal: true
    labels: { zone: dmz }
  back:
    name: shop-back
    external: true
`)
    expect(s).toEqual({
      image: "moor-fixture/app:1",
      command: ["sh", "-c", "echo $HOME"],
      entrypoint: ["/entry"],
      environment: { A: "1", B: "true", C: "text" },
      ports: [{ target: 80, published: 8080, hostIp: "127.0.0.1", protocol: "udp" }, { target: 81 }],
      mounts: [
        { type: "volume", source: "data", target: "/data", readOnly: true },
        { type: "bind", source: "/srv/shop/shared", target: "/shared" },
        { type: "tmpfs", target: "/scratch" },
        { type: "volume", target: "/anon" }
      ],
      networks: { back: {}, front: { aliases: ["www", "site"], ipv4Address: "172.30.0.10" } },
      labels: { team: "shop", tier: "1" },
      healthcheck: { test: ["CMD", "true"], disable: false },
      dependsOn: {
        db: { condition: "service_healthy", required: false },
        job: { condition: "service_completed_successfully" }
      },
      extraHosts: ["gateway:10.0.0.1", "multi:10.0.0.2", "multi:10.0.0.3"],
      tmpfs: ["/run", "/tmp"],
      resources: { cpus: 1.5, memoryBytes: 1024 ** 3, memoryReservationBytes: 256 * 1024 ** 2, pids: 50 },
      healthTimeoutMs: 45_000
    })
    const a = app(`
services:
  s: { image: x }
volumes:
  data:
    driver: local
    driver_opts: { type: tmpfs, size: 100 }
    labels: [backup=daily]
    name: shop-data
  old:
    external: true
networks:
  front:
    driver: bridge
    internal: true
    labels: { zone: dmz }
  back:
    name: shop-back
    external: true
`)
    expect(a.volumes).toEqual({
      data: {
        driver: "local",
        driverOpts: { size: "100", type: "tmpfs" },
        labels: { backup: "daily" },
        name: "shop-data"
      },
      old: { external: true }
    })
    expect(a.networks).toEqual({
      back: { external: true, name: "shop-back" },
      front: { driver: "bridge", internal: true, labels: { zone: "dmz" } }
    })
  })

  it("takes the environment from env_file, overridden by environment, and records each file's digest", () => {
    const s = service(
      `
services:
  s:
    image: x
    env_file: [base.env, {path: local.env, required: false}, {path: extra.env, required: false}]
    environment: { B: from-compose }
`,
      { files: { "base.env": "A=1\nB=2\n", "extra.env": "C=3\n" } }
    )
    expect(s.environment).toEqual({ A: "1", B: "from-compose", C: "3" })
    const digests = s.configDigests as Record<string, string>
    expect(Object.keys(digests)).toEqual(["base.env", "extra.env"])
    expect(digests["base.env"]).toMatch(/^[0-9a-f]{64}$/)
    expect(errors("services:\n  s:\n    image: x\n    env_file: missing.env\n")).toEqual([
      `${FILE}:4:15: services.s.env_file: env file missing.env does not exist (the path is relative to the app's directory): create it, or make it optional with "- path: missing.env" and "required: false"`
    ])
  })

  it("takes the app name from name:, the version and placement from x-moor", () => {
    const hosts = [
      { name: "web-1", labels: { role: "web" } },
      { name: "db-1", labels: { role: "db" } },
      { name: "web-2", labels: { role: "web", zone: "b" } }
    ]
    const a = app(
      `
name: storefront
x-moor:
  version: 1.10
  placement:
    labels: { role: web }
services:
  s: { image: x }
`,
      { hosts }
    )
    expect(a.name).toBe("storefront")
    expect(a.version).toBe("1.10")
    expect(a.hosts).toEqual(["web-1", "web-2"])
    expect(a.source).toEqual({ file: FILE, line: 2 })
    expect(app("x-moor: { hosts: [db-1] }\nservices: { s: { image: x } }", { hosts }).hosts).toEqual(["db-1"])
    expect(errors("x-moor: { hosts: [db-9] }\nservices: { s: { image: x } }", { hosts })).toEqual([
      `${FILE}:1:19: x-moor.hosts[0]: host "db-9" is not declared (hosts: web-1, db-1, web-2): use one of these, or declare it in moor.yaml's hosts`
    ])
    expect(
      errors("x-moor: { placement: { labels: { role: cache } } }\nservices: { s: { image: x } }", { hosts })
    ).toEqual([
      `${FILE}:1:32: x-moor.placement.labels: no declared host has the labels role=cache (hosts: web-1, db-1, web-2): give a host these labels in moor.yaml, or change the placement`
    ])
  })

  it("reads requires with a hook path or a hook object", () => {
    const parsed = parse(`
x-moor:
  requires:
    - app: db
      on_start: hooks/add-user.sh
    - app: cache
      on_start: { script: hooks/warm.sh, service: redis, timeout: 2m }
    - queue
services:
  s: { image: x }
`)
    expect(parsed.problems).toEqual([])
    expect(
      parsed.requires.map(({ app, onStart }) => ({ app, onStart: onStart && { ...onStart, pos: undefined } }))
    ).toEqual([
      { app: "db", onStart: { script: "hooks/add-user.sh", path: "x-moor.requires[0].on_start", pos: undefined } },
      {
        app: "cache",
        onStart: {
          script: "hooks/warm.sh",
          service: "redis",
          timeoutMs: 120_000,
          path: "x-moor.requires[1].on_start.script",
          pos: undefined
        }
      },
      { app: "queue", onStart: undefined }
    ])
    expect(parsed.requires[0]?.onStart?.pos).toEqual({ line: 5, column: 17 })
  })

  it("treats restart false, 0 limits and YAML anchors the way Compose does", () => {
    const a = app(`
x-base: &base
  image: moor-fixture/app:1
  restart: always
  environment: { SHARED: "1" }
services:
  a:
    <<: *base
    restart: "no"
  b:
    <<: *base
    cpus: 0
    pids_limit: -1
`)
    const services = a.services as Record<string, Record<string, unknown>>
    expect(services.a).toEqual({ image: "moor-fixture/app:1", restart: "no", environment: { SHARED: "1" } })
    expect(services.b).toEqual({ image: "moor-fixture/app:1", restart: "always", environment: { SHARED: "1" } })
  })
})

describe("Compose: refused keys and wrong values, with file:line:column", () => {
  it("refuses an unsupported service key naming the key path and the support table", () => {
    expect(errors("services:\n  web:\n    image: x\n    provider: { type: model }\n")).toEqual([
      `${FILE}:4:5: services.web.provider: moor does not support "provider": run by a Compose plugin, not by the engine: run it as a service with an image (see docs/compose-support.md)`
    ])
  })
  it("refuses container_name beside more than one replica, as Compose does", () => {
    expect(errors("services:\n  web:\n    image: x\n    container_name: web\n    scale: 2\n")).toEqual([
      `${FILE}:4:21: services.web.container_name: container_name "web" names one container, but the service runs 2: remove container_name, or run one replica`
    ])
    expect(errors("services:\n  web:\n    image: x\n    scale: 2\n    deploy: { replicas: 3 }\n")).toEqual([
      `${FILE}:5:25: services.web.deploy.replicas: deploy.replicas (3) and scale (2, line 4) disagree: keep one`
    ])
  })
  it("refuses unsupported top-level and nested keys, and suggests a fix for a typo", () => {
    expect(
      errors(`
services:
  web:
    imgae: x
    image: x
    deploy:
      mode: replicated-job
models:
  llm: {}
`)
    ).toEqual([
      `${FILE}:4:5: services.web.imgae: unknown key "imgae" (did you mean "image"?)`,
      `${FILE}:7:13: services.web.deploy.mode: deploy.mode "replicated-job" is Swarm's (jobs): use restart: "no" for a one-shot service, or replicated`,
      `${FILE}:8:1: models: moor does not support "models": needs Docker Model Runner: run the model as a service (see docs/compose-support.md)`
    ])
  })
  it("ignores x- extensions at the top level and in services", () => {
    expect(errors("x-anything: { privileged: true }\nservices:\n  web:\n    image: x\n    x-note: hi\n")).toEqual([])
  })
  it("reports wrong types at their line", () => {
    expect(
      errors(`
services:
  web:
    image: x
    ports: 8080
    environment: 5
    read_only: maybe
    healthcheck: { interval: 10 }
    stop_grace_period: soon
    restart: sometimes
`)
    ).toEqual([
      `${FILE}:5:12: services.web.ports: expected a list of ports, got number 8080`,
      `${FILE}:6:18: services.web.environment: expected a list or a mapping, got number 5`,
      `${FILE}:7:16: services.web.read_only: expected true or false, got the string "maybe"`,
      `${FILE}:8:30: services.web.healthcheck.interval: 10 has no unit: write a duration such as "10s"`,
      `${FILE}:9:24: services.web.stop_grace_period: "soon" is not a duration: expected e.g. 30s, 1m30s, 500ms (units: ns, us, ms, s, m, h)`,
      `${FILE}:10:14: services.web.restart: restart "sometimes" is not one of no, always, on-failure, unless-stopped or on-failure:N: use one of these`
    ])
  })
  it("checks references inside the file: volumes, networks, depends_on", () => {
    expect(
      errors(`
services:
  web:
    image: x
    volumes: [cache:/cache]
    networks: [front]
    depends_on: [db, web]
`)
    ).toEqual([
      `${FILE}:5:15: services.web.volumes[0]: volume "cache" is not declared in the top-level volumes; add "volumes: { cache: {} }" at the top level`,
      `${FILE}:6:16: services.web.networks[0]: network "front" is not declared in the top-level networks; add "networks: { front: {} }"`,
      `${FILE}:7:18: services.web.depends_on[0]: service "db" is not defined in this file (services: web): name one of these`,
      `${FILE}:7:22: services.web.depends_on[1]: service web cannot depend on itself`
    ])
  })
  it("refuses bad ports, volumes, labels in moor's namespace and a missing image", () => {
    expect(
      errors(`
services:
  web:
    ports: ["70000:80", "8080-8082:80-81", "80/sctp", "1:2:3:4"]
    volumes: ["relative-target:data", "/a:/b:rx"]
    labels: { moor.app: x }
`)
    ).toEqual([
      `${FILE}:4:13: services.web.ports[0]: port 70000 is out of range (1-65535)`,
      `${FILE}:4:25: services.web.ports[1]: "8080-8082:80-81": the host and container ranges must have the same length`,
      `${FILE}:4:44: services.web.ports[2]: protocol "sctp" is not supported (tcp or udp)`,
      `${FILE}:4:55: services.web.ports[3]: "1:2:3:4" is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL] (write an IPv6 address in brackets)`,
      `${FILE}:5:15: services.web.volumes[0]: the mount target "data" must be an absolute path in the container`,
      `${FILE}:5:39: services.web.volumes[1]: volume option "rx" is not one of ro, rw, z, Z, nocopy, rprivate, private, rshared, shared, rslave, slave, cached, delegated, consistent`,
      `${FILE}:6:13: services.web.labels.moor.app: moor.app is in moor's own label namespace (moor.*), which moor sets itself: use another prefix`,
      `${FILE}:3:3: services.web: image is required (moor runs images, it does not build them): set image: to the image to run`
    ])
  })
  it("reports a YAML syntax error with line and column", () => {
    expect(errors("services:\n  web:\n    image: [x\n    ports: []\n")).toEqual([
      expect.stringMatching(new RegExp(`^${FILE}:\\d+:\\d+: `))
    ])
    expect(errors('services:\n  web:\n    image: "x\n')).toEqual([
      `${FILE}:3:12: the string opened with " here is never closed (it runs on to line 4): end it with a matching "`
    ])
  })
  it("reports duplicate keys as errors", () => {
    expect(errors("services:\n  web:\n    image: x\n    image: y\n")).toEqual([
      `${FILE}:4:5: "image" is given twice in one mapping (first at line 3): keep one`
    ])
  })
  it("refuses an empty file, a non-mapping and a file without services", () => {
    expect(errors("")).toEqual([`${FILE}: the file is empty: a Compose file needs at least \`services:\``])
    expect(errors("- a\n- b\n")).toEqual([`${FILE}:1:1: expected a mapping with services: at the top, got a list`])
    expect(errors("name: web\n")).toEqual([
      `${FILE}:1:1: the file has no "services" key: add services: with at least one service (a name with an image:)`
    ])
    expect(errors("services: {}\n")).toEqual([
      `${FILE}:1:11: services: an app needs at least one service: add one under services: (a name with an image:)`
    ])
  })
  it("refuses an invalid name:, and names an app after its directory as Compose names projects", () => {
    expect(errors("name: My Shop\nservices: { s: { image: x } }")).toEqual([
      `${FILE}:1:7: name: "My Shop" is not a valid app name: it must start with a lowercase letter or digit and hold only a-z, 0-9, '_', '.', '-'`
    ])
    const normalized = parse("services: { s: { image: x } }", { dirName: "My_App 2" })
    expect([normalized.name, normalized.problems, normalized.warnings.map(formatProblem)]).toEqual([
      "my_app2",
      [],
      [`${FILE}: the app is named "my_app2" after its directory "My_App 2" (as Compose names projects)`]
    ])
    expect(errors("services: { s: { image: x } }", { dirName: "--" })[0]).toContain(
      'the app name comes from the directory name "--", which holds no letter or digit'
    )
  })
  it("refuses a hook path given as a list and a requirement on itself", () => {
    expect(
      errors("x-moor:\n  requires:\n    - app: web\n    - app: db\n      on_start: [a]\nservices: { s: { image: x } }")
    ).toEqual([
      `${FILE}:3:12: x-moor.requires[0].app: app web cannot require itself: remove this requirement`,
      `${FILE}:5:17: x-moor.requires[1].on_start: expected a mapping, got a list`
    ])
  })
  it("still reports the hosts of an app with problems so its skip lands on the right hosts", () => {
    const parsed = parse("x-moor: { hosts: [b] }\nservices: { s: { image: x, provider: { type: model } } }", {
      hosts: [{ name: "a" }, { name: "b" }]
    })
    expect(parsed.app).toBeUndefined()
    expect(parsed.hosts).toEqual(["b"])
  })
})

describe("Compose: interpolation", () => {
  const env = { NAME: "shop", EMPTY: "", PORT: "18080" }
  const envOf = (value: string, extra: Record<string, string> = {}) =>
    service(`services:\n  s:\n    image: x\n    environment:\n      V: "${value}"\n`, { env: { ...env, ...extra } })
      .environment as Record<string, string>

  it.each([
    ["${NAME}", "shop"],
    ["$NAME-x", "shop-x"],
    ["${MISSING:-dflt}", "dflt"],
    ["${EMPTY:-dflt}", "dflt"],
    ["${EMPTY-dflt}", ""],
    ["${MISSING-dflt}", "dflt"],
    ["${NAME:+alt}", "alt"],
    ["${EMPTY:+alt}", ""],
    ["${EMPTY+alt}", "alt"],
    ["${MISSING+alt}", ""],
    ["${NAME:?needed}", "shop"],
    ["${MISSING:-${NAME}-fallback}", "shop-fallback"],
    ["$$NAME costs $$5", "$NAME costs $5"]
  ])("%s -> %s", (value, expected) => {
    expect(envOf(value).V).toBe(expected)
  })

  it("interpolates every value: ports, image, booleans, numbers", () => {
    const s = service(
      'services:\n  s:\n    image: "moor-fixture/app:${TAG:-1}"\n    ports: ["127.0.0.1:${PORT}:80"]\n    init: "${INIT}"\n    healthcheck: { retries: "${RETRIES}" }\n',
      { env: { PORT: "18080", INIT: "true", RETRIES: "4" } }
    )
    expect(s).toEqual({
      image: "moor-fixture/app:1",
      ports: [{ target: 80, published: 18080, hostIp: "127.0.0.1" }],
      init: true,
      healthcheck: { retries: 4 }
    })
  })

  it("reads the app's .env after the process environment", () => {
    const s = service('services:\n  s:\n    image: x\n    environment: { A: "${A}", B: "${B}" }\n', {
      env: { A: "from-process" },
      dotEnv: "A=from-dotenv\nB=from-dotenv\n"
    })
    expect(s.environment).toEqual({ A: "from-process", B: "from-dotenv" })
  })

  it("reports a missing required variable with file, line and its message", () => {
    expect(
      errors(
        'services:\n  s:\n    image: x\n    environment:\n      DB: "${DB_URL:?set DB_URL to the database address}"\n'
      )
    ).toEqual([
      `${FILE}:5:11: services.s.environment.DB: required variable DB_URL is missing a value: set DB_URL to the database address`
    ])
    expect(errors('services:\n  s:\n    image: "${TAG?}"\n')).toEqual([
      `${FILE}:3:12: services.s.image: required variable TAG is missing a value`
    ])
  })

  it("refuses a lone $ and warns about an unset variable without a default", () => {
    expect(errors('services:\n  s:\n    image: x\n    command: "echo $1"\n')[0]).toBe(
      `${FILE}:4:14: services.s.command: invalid interpolation: the "$" at character 6 of the value must start a variable ($VAR or \${VAR}); write "$$" for a literal "$"`
    )
    const parsed = parse('services:\n  s:\n    image: "x:${TAG}"\n')
    expect(parsed.problems).toEqual([])
    expect(parsed.warnings.map(formatProblem)).toEqual([
      `${FILE}:3:12: services.s.image: variable TAG is not set; it becomes an empty string`
    ])
  })

  it("does not interpolate inside ignored extensions", () => {
    expect(errors('x-unused: "${NOPE:?never read}"\nservices: { s: { image: x } }')).toEqual([])
  })
})

describe("Compose: output does not depend on key order", () => {
  it("gives the same model, byte for byte, when only the key order changes", () => {
    const a = `
name: shop
x-moor: { version: "2", hosts: [local] }
services:
  web:
    image: x
    environment: { B: "2", A: "1" }
    labels: { z: "1", a: "2" }
    ports: [{ target: 80, published: 8080, host_ip: 127.0.0.1 }]
    volumes: [{ type: volume, source: data, target: /data, read_only: true }]
    networks: { front: { ipv4_address: 172.30.0.2, aliases: [w] }, default: null }
    depends_on: { db: { required: false, condition: service_healthy } }
    healthcheck: { retries: 3, test: [CMD, "true"], interval: 5s }
    deploy: { resources: { reservations: { memory: 1m }, limits: { pids: 5, cpus: 1 } } }
  db:
    image: y
volumes: { data: { labels: { b: "1", a: "2" }, driver: local } }
networks: { front: { internal: true, driver: bridge } }
`
    const b = `
networks: { front: { driver: bridge, internal: true } }
volumes: { data: { driver: local, labels: { a: "2", b: "1" } } }
services:
  db:
    image: y
  web:
    deploy: { resources: { limits: { cpus: 1, pids: 5 }, reservations: { memory: 1m } } }
    healthcheck: { interval: 5s, test: [CMD, "true"], retries: 3 }
    depends_on: { db: { condition: service_healthy, required: false } }
    networks: { default: null, front: { aliases: [w], ipv4_address: 172.30.0.2 } }
    volumes: [{ read_only: true, target: /data, source: data, type: volume }]
    ports: [{ host_ip: 127.0.0.1, published: 8080, target: 80 }]
    labels: { a: "2", z: "1" }
    environment: { A: "1", B: "2" }
    image: x
x-moor: { hosts: [local], version: "2" }
name: shop
`
    const left = { ...app(a), source: undefined }
    const right = { ...app(b), source: undefined }
    expect(JSON.stringify(right)).toBe(JSON.stringify(left))
  })
})
