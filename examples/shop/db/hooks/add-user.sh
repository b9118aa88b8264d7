#!/bin/sh
# on_start hook of db: moor runs it inside db's container (store) when an app that requires db
# starts, with MOOR_CONSUMER_APP and MOOR_CONSUMER_VERSION set. Idempotent: it may run again.
set -eu
mkdir -p /data/users
printf '%s\n' "${MOOR_CONSUMER_VERSION:-unknown}" >"/data/users/${MOOR_CONSUMER_APP:?MOOR_CONSUMER_APP is not set}"
echo "db: registered ${MOOR_CONSUMER_APP} (version ${MOOR_CONSUMER_VERSION:-unknown})"
