/**
 * moor.yaml's `ssh:` (how ssh:// hosts' keys are checked): at the top, for every ssh:// host of
 * moor.yaml, and per host, overriding it; paths from the spec root (or ~/); mistakes reported with
 * the file, line, column and key.
 */
import { homedir } from "node:os"
import { describe, expect, it } from "vitest"
import { parseHostsYaml, parseMoorYaml } from "../../adapters/spec/moor-config.ts"
import { formatProblem } from "../../adapters/spec/problems.ts"

const ROOT = "/spec"
const engines = (yaml: string) => parseMoorYaml(yaml, "moor.yaml", ROOT).hosts?.map((h) => h.engine)
const problems = (yaml: string, parse = parseMoorYaml) => parse(yaml, "moor.yaml", ROOT).problems.map(formatProblem)

describe("moor.yaml ssh:", () => {
  it("the top-level ssh: applies to each ssh:// host; a host's own keys override it; other engines get none", () => {
    const yaml = [
      "scope: s",
      "ssh: { known_hosts: keys/known_hosts, accept_new: true }",
      "hosts:",
      "  - { name: a, engine: ssh://deploy@10.0.0.1 }",
      "  - name: b",
      "    engine: ssh://deploy@10.0.0.2:2222",
      "    ssh: { accept_new: false }",
      "  - name: c",
      "    engine: ssh://deploy@10.0.0.3",
      "    ssh: { known_hosts: ~/.ssh/moor_known_hosts }",
      "  - { name: d, engine: tcp://10.0.0.4:2376 }",
      ""
    ].join("\n")
    expect(engines(yaml)).toEqual([
      { name: "a", endpoint: "ssh://deploy@10.0.0.1", ssh: { knownHosts: "/spec/keys/known_hosts", acceptNew: true } },
      {
        name: "b",
        endpoint: "ssh://deploy@10.0.0.2:2222",
        ssh: { knownHosts: "/spec/keys/known_hosts", acceptNew: false }
      },
      {
        name: "c",
        endpoint: "ssh://deploy@10.0.0.3",
        ssh: { knownHosts: `${homedir()}/.ssh/moor_known_hosts`, acceptNew: true }
      },
      { name: "d", endpoint: "tcp://10.0.0.4:2376" }
    ])
  })

  it("a host's ssh: works in hosts.yaml too", () => {
    const hosts = parseHostsYaml(
      "- { name: a, engine: ssh://deploy@h, ssh: { known_hosts: /etc/moor/known_hosts } }\n",
      "hosts.yaml",
      ROOT
    )
    expect(hosts.problems).toEqual([])
    expect(hosts.hosts?.[0]?.engine.ssh).toEqual({ knownHosts: "/etc/moor/known_hosts" })
  })

  it("mistakes name the file, line, column and key, and say what to do", () => {
    expect(
      problems(
        [
          "scope: s",
          "hosts:",
          "  - name: a",
          "    engine: tcp://h:2376",
          "    ssh: { accept_new: true }",
          "  - name: b",
          "    engine: ssh://u@h",
          "    ssh: { accept_new: maybe, known_host: x, known_hosts: '' }",
          ""
        ].join("\n")
      )
    ).toEqual([
      "moor.yaml:5:10: hosts[0].ssh: ssh: only applies to an ssh:// engine",
      'moor.yaml:8:24: hosts[1].ssh.accept_new: expected true or false, got the string "maybe"',
      'moor.yaml:8:31: hosts[1].ssh.known_host: unknown key "known_host" (did you mean "known_hosts"?)',
      "moor.yaml:8:59: hosts[1].ssh.known_hosts: known_hosts is empty: give a file (relative to the spec root, absolute, or ~/...), or leave the key out for ~/.ssh/known_hosts"
    ])
    expect(problems("scope: s\nssh:\n  accept_new: true\n")).toEqual([
      "moor.yaml:3:3: ssh: ssh: applies to the hosts declared in moor.yaml, and it declares none: declare them here (hosts:), or put ssh: on each host of hosts.yaml (the default host reads ~/.ssh/known_hosts)"
    ])
    expect(problems("scope: s\nssh: yes\nhosts: [{ name: a }]\n")[0]).toMatch(/^moor\.yaml:2:6: ssh: expected a map/)
  })
})
