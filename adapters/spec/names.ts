/** The Name pattern of core/model/desired.ts (apps, hosts, scope), for messages at the spec's line. */
export const NAME = /^[a-z0-9][a-z0-9_.-]*$/
