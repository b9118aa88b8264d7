/**
 * Every key of the Compose Specification, top level and service level, with what moor does with it.
 * The parser takes its refusal hints from here, and a test checks docs/compose-support.md against it
 * (`node scripts/docs-keys.ts` rewrites its tables from this list).
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
  no("models", "needs Docker Model Runner: run the model as a service"),
  s("x-moor", "moor's own settings: version, requires, hosts, placement"),
  { key: "x-*", support: "ignored", note: "extensions (e.g. anchors for YAML merges)" }
]

export const SERVICE_KEYS: ReadonlyArray<KeyDoc> = [
  s("annotations", "list or map; needs Engine API 1.43 (Docker 24)"),
  {
    key: "attach",
    support: "ignored",
    note: "accepted without effect (moor attaches to no output); a warning says so"
  },
  s("blkio_config", "weight, weight_device, device_{read,write}_{bps,iops}"),
  later("build", "with image: the image is pulled, not built; without: the service is skipped"),
  s("cap_add"),
  s("cap_drop"),
  s("cgroup", "host or private"),
  s("cgroup_parent"),
  s("command", "a string is split like a shell would, or a list"),
  later("configs", "short and long syntax checked; the service is skipped"),
  s(
    "container_name",
    "the container's name; moor still owns it by its labels, and never touches another container of that name"
  ),
  s("cpu_count"),
  s("cpu_percent"),
  s("cpu_period"),
  s("cpu_quota"),
  s("cpu_rt_period", "microseconds, or a duration (1400us, 1ms)"),
  s("cpu_rt_runtime", "microseconds, or a duration (400ms)"),
  s("cpu_shares"),
  s("cpus", "same as deploy.resources.limits.cpus"),
  s("cpuset"),
  s("credential_spec", "file or registry (Windows engines)"),
  s("depends_on", "list, or map with condition and required"),
  s(
    "deploy",
    "replicas, update_config, rollback_config, restart_policy, resources (limits, reservations memory and devices); mode, placement, endpoint_mode and labels with a note"
  ),
  {
    key: "develop",
    support: "ignored",
    note: "accepted without effect (moor runs images, syncs no files); a warning says so"
  },
  s("device_cgroup_rules"),
  s("devices", "short (SOURCE[:TARGET[:PERMISSIONS]]) and long syntax; CDI names"),
  s("dns", "string or list"),
  s("dns_opt"),
  s("dns_search", "string or list"),
  s("domainname"),
  s("entrypoint", "a string is split like a shell would, or a list"),
  s("env_file", "paths relative to the app directory; each file's digest is part of the service's spec"),
  s("environment", "list or map; a name without a value comes from moor's environment; the last of duplicates wins"),
  s("expose", "PORT, PORT/PROTOCOL, START-END/PROTOCOL"),
  s("extends", "a service in the same file or another one, merged with Compose's rules"),
  s("external_links", "CONTAINER[:ALIAS]"),
  s("extra_hosts", "list or map"),
  s("gpus", "all, or a list of device requests"),
  s("group_add"),
  s("healthcheck", "test, interval, timeout, start_period, start_interval, retries, disable"),
  s("hostname"),
  s("image", "required"),
  s("init"),
  s("ipc", "host, private, shareable, none, service:NAME, container:NAME"),
  s("isolation", "default, process, hyperv"),
  s("label_file", "paths relative to the app directory, merged into labels; digests in the spec"),
  s("labels", "list or map; the moor.* namespace is reserved; the last of duplicates wins"),
  s("links", "SERVICE[:ALIAS]; implies depends_on"),
  s("logging", "driver and options"),
  s("mac_address"),
  s("mem_limit", "same as deploy.resources.limits.memory"),
  s("mem_reservation", "same as deploy.resources.reservations.memory"),
  s("mem_swappiness", "0 to 100; 0 keeps the engine's default, as in Compose"),
  s("memswap_limit", "a size, or -1 for unlimited swap"),
  no("models", "needs Docker Model Runner, absent on a plain engine: run the model as a service"),
  s("network_mode", "host, none, bridge, container:NAME, service:NAME (started first)"),
  s("networks", "list or map with every attachment option; joined by priority"),
  s("oom_kill_disable"),
  s("oom_score_adj"),
  s("pid", "host, service:NAME, container:NAME"),
  s("pids_limit", "same as deploy.resources.limits.pids"),
  s("platform", "given to the engine at create and pull"),
  s("ports", "short syntax (ranges, host IP, /udp) and long syntax"),
  s("post_start", "commands run in the container after each start"),
  s("pre_stop", "commands run in the container before each stop"),
  s("privileged"),
  s("profiles", "a service runs when one of its profiles is enabled (--profile, COMPOSE_PROFILES, moor.yaml)"),
  no("provider", "run by a Compose plugin, not by the engine: run it as a service with an image"),
  s("pull_policy", "always, never, missing, if_not_present, daily, weekly, every_<duration>; build is not applied yet"),
  no("pull_refresh_after"),
  s("read_only"),
  s("restart", "no, always, on-failure, on-failure:N, unless-stopped"),
  s("runtime"),
  s("scale", "the number of containers, <app>-<service>-1..N, replaced one at a time"),
  later("secrets", "short and long syntax checked; the service is skipped"),
  s("security_opt", "a seccomp profile file is read relative to the app directory"),
  s("shm_size"),
  s("stdin_open"),
  s("stop_grace_period"),
  s("stop_signal"),
  s("storage_opt"),
  s("sysctls", "list or map"),
  s("tmpfs", "string or list"),
  s("tty"),
  s("ulimits", "a number, or soft and hard"),
  s("use_api_socket", "mounts /var/run/docker.sock; registry credentials are not copied in"),
  s("user"),
  s("userns_mode", "host"),
  s("uts", "host"),
  s("volumes", "short and long syntax with their options; a missing bind source is created"),
  s("volumes_from", "SERVICE[:ro|rw] (implies depends_on) or container:NAME[:ro|rw]"),
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
