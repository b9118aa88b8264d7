#!/bin/sh
# on_start hook: records the consumer (name -> version) in the provider's volume.
set -eu
mkdir -p /data/users
printf '%s' "${MOOR_CONSUMER_VERSION}" >"/data/users/${MOOR_CONSUMER_APP}"
echo "registered ${MOOR_CONSUMER_APP} ${MOOR_CONSUMER_VERSION}"
