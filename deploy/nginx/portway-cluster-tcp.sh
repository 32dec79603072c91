#!/bin/sh
# Prints nginx's stream {} config for a Portway cluster's TCP ports (README, "Running several
# relays"): every port of the range goes to all relays; only the relay holding the port's tunnel
# listens on it, the others refuse at once, and nginx moves on to the next relay. A relay that
# refuses is not unhealthy (it does not hold this port), hence max_fails=0. proxy_half_close keeps
# a client's half-closed connection open for the answer, as the relay does.
#
#   portway-cluster-tcp.sh 22000-22999 relay-a relay-b relay-c > /etc/nginx/portway-tcp.conf
#
# Include the output at nginx's top level (outside http {}); Debian: apt-get install
# libnginx-mod-stream. LISTEN_HOST=10.0.0.5 binds the ports to one address (default: all).
# test/e2e/cluster-tcp-failover.test.ts runs Debian's nginx with this script's output.
set -eu
if [ $# -lt 2 ] || ! echo "$1" | grep -Eq '^[0-9]+-[0-9]+$'; then
  echo "usage: $0 FIRST-LAST RELAY_HOST..." >&2
  exit 2
fi
first=${1%-*}
last=${1#*-}
shift
listen_prefix=${LISTEN_HOST:+$LISTEN_HOST:}
echo 'stream {'
port=$first
while [ "$port" -le "$last" ]; do
  echo "    upstream portway_tcp_$port {"
  for relay in "$@"; do echo "        server $relay:$port max_fails=0;"; done
  echo '    }'
  echo "    server { listen $listen_prefix$port; proxy_pass portway_tcp_$port; proxy_connect_timeout 2s; proxy_half_close on; }"
  port=$((port + 1))
done
echo '}'
