#!/bin/bash
# wait-listen.sh PORT [PID] [SECONDS]: wait until something listens on
# 127.0.0.1:PORT, without connecting (a connection that closes again would
# count, for a gdb stub, as a client that came and went). Fails when PID
# exits first or the deadline passes.
port=$1 pid=${2:-} secs=${3:-20}
hex=$(printf ':%04X ' "$port")
for _ in $(seq $((secs * 20))); do
	# /proc/net/tcp: local_address is field 2, st 0A means LISTEN.
	awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" {f = 1} END {exit !f}' /proc/net/tcp && exit 0
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		echo "wait-listen: process $pid exited before listening on port $port" >&2
		exit 1
	fi
	sleep 0.05
done
echo "wait-listen: nothing listens on 127.0.0.1:$port after ${secs}s" >&2
exit 1
