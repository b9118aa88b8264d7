/** How the loader reads container_name, scale, network_mode, pull_policy, hooks, restart and deploy. */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseCompose } from "../../adapters/spec/compose-app.ts"
import { formatProblem } from "../../adapters/spec/problems.ts"

const FILE = "shop/web/compose.yaml"
const parse = (text: string) =>
  parseCompose({
    text,
    file: FILE,
    dir: "/srv/shop/web",
    dirName: "web",
    env: {},
    hosts: [{ name: "local" }],
    readFile: () => Result.fail("missing: no such file or directory")
  })
const services = (text: string): Record<string, Record<string, unknown>> => {
  const parsed = parse(text)
  expect(parsed.problems.map(formatProblem)).toEqual([])
  return (parsed.app as { services: Record<string, Record<string, unknown>> }).services
}
const errors = (text: string) => parse(text).problems.map(formatProblem)
const warnings = (text: string) => parse(text).warnings.map(formatProblem)

describe("container_name, scale and deploy.replicas", () => {
  it("container_name fixes the name; scale or deploy.replicas set the count (1 is the default, left out)", () => {
    const s = services(`
services:
  a: { image: x, container_name: my-app }
  b: { image: x, scale: 3 }
  c: { image: x, deploy: { replicas: 2 } }
  d: { image: x, scale: 1 }
  e: { image: x, scale: 0 }
`)
    expect([s.a?.containerName, s.b?.replicas, s.c?.replicas, s.d?.replicas, s.e?.replicas]).toEqual([
      "my-app",
      3,
      2,
      undefined,
      0
    ])
  })
  it("refuses a container name Docker would refuse, and replicas that cannot all publish one host port", () => {
    expect(errors("services:\n  a:\n    image: x\n    container_name: -bad\n")).toEqual([
      `${FILE}:4:21: services.a.container_name: "-bad" is not a valid container name: use letters, digits, '_', '.', '-', starting with a letter or digit`
    ])
    expect(errors('services:\n  a:\n    image: x\n    scale: 2\n    ports: ["8080:80"]\n')).toEqual([
      `${FILE}:5:13: services.a.ports[0]: the service runs 2 containers, which cannot all publish host port 8080/tcp: publish a range of at least 2 host ports ("8000-8009:80"), leave the host port out (the engine then chooses one), or run one replica`
    ])
  })
})

describe("network_mode", () => {
  it("takes host, none, bridge, container:NAME and service:NAME; a service it names is started first", () => {
    const s = services(`
services:
  vpn: { image: x }
  a: { image: x, network_mode: host }
  b: { image: x, network_mode: "service:vpn" }
  c: { image: x, network_mode: "container:other" }
`)
    expect([s.a?.networkMode, s.b?.networkMode, s.c?.networkMode]).toEqual(["host", "service:vpn", "container:other"])
    expect(s.b?.dependsOn).toEqual({ vpn: { condition: "service_started" } })
  })
  it("refuses a mode it does not know, a missing service, and networks beside network_mode", () => {
    expect(
      errors(`
services:
  a: { image: x, network_mode: "service:nope" }
  b: { image: x, network_mode: weird }
  c:
    image: x
    network_mode: host
    networks: [default]
`)
    ).toEqual([
      `${FILE}:3:32: services.a.network_mode: service "nope" is not defined in this file (services: a, b, c): name one of these`,
      `${FILE}:4:32: services.b.network_mode: network_mode "weird" is not one of host, none, bridge, container:NAME, service:NAME`,
      `${FILE}:8:5: services.c.networks: networks and network_mode (line 7) exclude each other: keep one`
    ])
  })
})

describe("pull_policy", () => {
  it("maps Compose's policies; daily, weekly and every_<duration> refresh", () => {
    const s = services(`
services:
  a: { image: x, pull_policy: always }
  b: { image: x, pull_policy: if_not_present }
  c: { image: x, pull_policy: daily }
  d: { image: x, pull_policy: every_12h }
  e: { image: x, pull_policy: every_2d }
  f: { image: x, pull_policy: never }
`)
    expect(Object.values(s).map((x) => [x.pullPolicy, x.pullRefreshMs])).toEqual([
      ["always", undefined],
      [undefined, undefined],
      ["refresh", 86_400_000],
      ["refresh", 43_200_000],
      ["refresh", 172_800_000],
      ["never", undefined]
    ])
    expect(errors("services:\n  a: { image: x, pull_policy: sometimes }\n")[0]).toContain(
      'pull_policy "sometimes" is not one of always, never, missing, if_not_present, build, daily, weekly, every_<duration>'
    )
  })
})

describe("post_start and pre_stop", () => {
  it("read command (string or list), user, privileged, working_dir and environment", () => {
    const s = services(`
services:
  a:
    image: x
    post_start:
      - command: ./setup.sh --fast
        user: root
        privileged: true
        working_dir: /app
        environment: [A=1]
    pre_stop:
      - command: ["sh", "-c", "echo bye"]
`)
    expect([s.a?.postStart, s.a?.preStop]).toEqual([
      [
        {
          command: ["./setup.sh", "--fast"],
          environment: { A: "1" },
          privileged: true,
          user: "root",
          workingDir: "/app"
        }
      ],
      [{ command: ["sh", "-c", "echo bye"] }]
    ])
    expect(errors("services:\n  a:\n    image: x\n    post_start: [{ user: root }]\n")).toEqual([
      `${FILE}:4:18: services.a.post_start[0]: a post_start hook needs a command: add command: [...]`
    ])
  })
})

describe("restart and deploy.restart_policy", () => {
  it("restart on-failure:N keeps its count; deploy.restart_policy wins and sets moor's budget", () => {
    const s = services(`
services:
  a: { image: x, restart: "on-failure:3" }
  b:
    image: x
    restart: always
    deploy:
      restart_policy: { condition: on-failure, max_attempts: 4, window: 2m, delay: 5s }
  c: { image: x, deploy: { restart_policy: { condition: none } } }
`)
    expect([s.a?.restart, s.a?.restartRetries]).toEqual(["on-failure", 3])
    expect([s.b?.restart, s.b?.restartRetries, s.b?.restartBudget]).toEqual([
      "on-failure",
      4,
      { delayMs: 5000, maxAttempts: 4, windowMs: 120_000 }
    ])
    expect(s.c?.restart).toBe("no")
  })
})

describe("deploy: update_config, rollback_config, and Swarm's keys with a note", () => {
  it("reads update_config and rollback_config", () => {
    const s = services(`
services:
  a:
    image: x
    deploy:
      update_config: { parallelism: 2, delay: 10s, order: start-first, failure_action: continue, monitor: 30s }
      rollback_config: { order: stop-first }
`)
    expect([s.a?.update, s.a?.rollback]).toEqual([
      { delayMs: 10_000, failureAction: "continue", monitorMs: 30_000, order: "start-first", parallelism: 2 },
      { order: "stop-first" }
    ])
  })
  it("placement, endpoint_mode, labels and mode global are accepted with a note saying what moor does instead", () => {
    const text = `
services:
  a:
    image: x
    deploy:
      mode: global
      placement: { constraints: [node.role == manager] }
      endpoint_mode: vip
      labels: { a: b }
`
    expect(errors(text)).toEqual([])
    expect(warnings(text).map((w) => w.replace(/^[^ ]+ /, ""))).toEqual([
      'services.a.deploy.mode: deploy.mode "global" runs one container per Swarm node: moor runs one container on each host the app is placed on (x-moor.hosts)',
      "services.a.deploy.placement: deploy.placement is for Swarm nodes: moor places apps on hosts with x-moor.hosts or x-moor.placement at the top level of the file",
      "services.a.deploy.endpoint_mode: deploy.endpoint_mode is for Swarm's load balancer: on one engine, containers reach each other by service name",
      "services.a.deploy.labels: deploy.labels label a Swarm service, not its containers: use labels: to label the containers"
    ])
  })
  it("depends_on restart: true is accepted with a note", () => {
    const text =
      "services:\n  db: { image: x }\n  a:\n    image: x\n    depends_on: { db: { condition: service_started, restart: true } }\n"
    expect(errors(text)).toEqual([])
    expect(warnings(text)[0]).toContain("moor does not restart a when db is restarted")
  })
})
