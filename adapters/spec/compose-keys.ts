/**
 * Every key of the Compose Specification, top level and service level, with what moor does with it.
 * The parser takes its refusal hints from here, and a test checks docs/compose-support.md against it.
 */

/** "not applied yet": read and checked, and a service using it is skipped with that reason. */
export type Support = "supported" | "not supported" | "ignored" | "not applied yet"
export interface KeyDoc {
  readonly key: string
  readonly support: Support
  /** For a refused key, the hint shown in the error. */
  readonly note: string
}

const s = (key: string, note = ""): KeyDoc => ({ key, support: "supported", note })
const no = (key: string, note = ""): KeyDoc => ({ key, support: "not supported", note })
const later = (key: string, note: string): KeyDoc => ({ key, support: "not applied yet", note })

export const TOP_LEVEL_KEYS: ReadonlyArray<KeyDoc> = [
  { key: "version", support: "ignored", note: "obsolete in Compose; a warning says so" },
  s("name", "the app name (default: the directory name)"),
  s("services"),
  s("networks", "driver, driver_opts, ipam, internal, attachable, enable_ipv6, labels, name, external"),
  s("volumes", "driver, driver_opts, labels, name, external"),
  s("include", "other Compose files (path, project_directory, env_file), their resources merged into the app"),
  later("configs", "checked; services that use one are skipped until moor mounts them"),
  later("secrets", "checked; services that use one are skipped until moor mounts them"),
  no("models"),
  s("x-moor", "moor's own settings: version, requires, hosts, placement"),
  { key: "x-*", support: "ignored", note: "extensions (e.g. anchors for YAML merges)" }
]

export const SERVICE_KEYS: ReadonlyArray<KeyDoc> = [
  no("annotations"),
  no("attach"),
  no("blkio_config"),
  later("build", "with image: the image is pulled, not built; without: the service is skipped"),
  s("cap_add"),
  s("cap_drop"),
  no("cgroup"),
  no("cgroup_parent"),
  s("command", "a string is split like a shell would, or a list"),
  later("configs", "short and long syntax checked; the service is skipped"),
  s(
    "container_name",
    "the container's name; moor still owns it by its labels, and never touches another container of that name"
  ),
  no("cpu_count", "use cpus or deploy.resources.limits.cpus"),
  no("cpu_percent", "use cpus or deploy.resources.limits.cpus"),
  no("cpu_period", "use cpus or deploy.resources.limits.cpus"),
  no("cpu_quota", "use cpus or deploy.resources.limits.cpus"),
  no("cpu_rt_period"),
  no("cpu_rt_runtime"),
  no("cpu_shares", "use cpus or deploy.resources.limits.cpus"),
  s("cpus", "same as deploy.resources.limits.cpus"),
  no("cpuset"),
  no("credential_spec"),
  s("depends_on", "list, or map with condition and required"),
  s(
    "deploy",
    "replicas, update_config, rollback_config, restart_policy, resources; mode, placement, endpoint_mode and labels with a note"
  ),
  no("develop"),
  no("device_cgroup_rules"),
  no("devices"),
  no("dns"),
  no("dns_opt"),
  no("dns_search"),
  no("domainname"),
  s("entrypoint", "a string is split like a shell would, or a list"),
  s("env_file", "paths relative to the app directory; each file's digest is part of the service's spec"),
  s("environment", "list or map; a name without a value comes from moor's environment; the last of duplicates wins"),
  no("expose", "containers on a shared network reach every port; remove it"),
  s("extends", "a service in the same file or another one, merged with Compose's rules"),
  no("external_links"),
  s("extra_hosts", "list or map"),
  no("gpus"),
  no("group_add"),
  s("healthcheck", "test, interval, timeout, start_period, start_interval, retries, disable"),
  s("hostname"),
  s("image", "required"),
  s("init"),
  no("ipc"),
  no("isolation"),
  no("label_file", "write the labels in the Compose file"),
  s("labels", "list or map; the moor.* namespace is reserved; the last of duplicates wins"),
  no("links", "services on the same network reach each other by service name"),
  no("logging", "configure logging on the engine"),
  no("mac_address"),
  s("mem_limit", "same as deploy.resources.limits.memory"),
  s("mem_reservation", "same as deploy.resources.reservations.memory"),
  no("mem_swappiness"),
  no("memswap_limit"),
  no("models"),
  s("network_mode", "host, none, bridge, container:NAME, service:NAME (started first)"),
  s("networks", "list or map with every attachment option; joined by priority"),
  no("oom_kill_disable"),
  no("oom_score_adj"),
  no("pid"),
  s("pids_limit", "same as deploy.resources.limits.pids"),
  no("platform"),
  s("ports", "short syntax (ranges, host IP, /udp) and long syntax"),
  s("post_start", "commands run in the container after each start"),
  s("pre_stop", "commands run in the container before each stop"),
  no("privileged"),
  s("profiles", "a service runs when one of its profiles is enabled (--profile, COMPOSE_PROFILES, moor.yaml)"),
  no("provider"),
  s("pull_policy", "always, never, missing, if_not_present, daily, weekly, every_<duration>; build is not applied yet"),
  no("pull_refresh_after"),
  s("read_only"),
  s("restart", "no, always, on-failure, on-failure:N, unless-stopped"),
  no("runtime"),
  s("scale", "the number of containers, <app>-<service>-1..N, replaced one at a time"),
  later("secrets", "short and long syntax checked; the service is skipped"),
  no("security_opt"),
  no("shm_size"),
  no("stdin_open"),
  s("stop_grace_period"),
  s("stop_signal"),
  no("storage_opt"),
  no("sysctls"),
  s("tmpfs", "string or list"),
  no("tty"),
  no("ulimits"),
  no("use_api_socket"),
  s("user"),
  no("userns_mode"),
  no("uts"),
  s("volumes", "short and long syntax with their options; a missing bind source is created"),
  no("volumes_from", "declare a named volume and mount it in both services"),
  s("working_dir"),
  s("x-moor", "health_timeout"),
  { key: "x-*", support: "ignored", note: "extensions" }
]

/** The refusal hints of the keys moor does not support, for the parser. */
export const unsupportedHints = (keys: ReadonlyArray<KeyDoc>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const k of keys) if (k.support === "not supported") out[k.key] = k.note
  return out
}
