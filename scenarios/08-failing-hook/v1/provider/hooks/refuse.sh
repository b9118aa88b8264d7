#!/bin/sh
# on_start hook that refuses every consumer (a full disk, a bad password...).
echo "refusing to register ${MOOR_CONSUMER_APP}: no space left" >&2
exit 3
