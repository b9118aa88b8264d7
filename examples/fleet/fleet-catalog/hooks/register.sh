#!/bin/sh
# on_start hook of fleet-catalog: runs inside its api container, on its host, when an app that
# requires it starts (on any host), with MOOR_CONSUMER_APP, MOOR_CONSUMER_VERSION and MOOR_HOST
# (the provider's host) set. Idempotent: it may run again.
set -eu
mkdir -p /www/consumers
printf '%s on %s\n' "${MOOR_CONSUMER_VERSION:-unknown}" "${MOOR_HOST:-?}" >"/www/consumers/${MOOR_CONSUMER_APP:?}"
echo "fleet-catalog: registered ${MOOR_CONSUMER_APP}"
