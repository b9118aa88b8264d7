#!/bin/sh
echo "hello ${MOOR_CONSUMER_APP}"
