#!/usr/bin/env bash
# redisbench.sh: tiermem serve against redis-server, both started here the same way, measured
# with redis-benchmark in one run, alternated. Issue 14's figures (BENCHMARKS.md, "The server").
#
#   benchmarks/serve/redisbench.sh throughput [rounds]   # -P 16 and -P 1, SET and GET, data in hot
#   benchmarks/serve/redisbench.sh memory [keys]         # RSS for KEYS 100-byte values, then GETs
#                                                        # with a memory budget a third of the data
#   benchmarks/serve/redisbench.sh restart [keys]        # tiermem only: KEYS values in warm, SIGTERM
#                                                        # (time to exit, peak RSS), start again on
#                                                        # the same directory (time to answer), GETs
#   benchmarks/serve/redisbench.sh expire [rounds]       # EXPIRE of a 100-byte and a 1 MiB value in
#                                                        # hot, and GETEX of the 1 MiB one
#
# TIERMEM_BIN=path runs that tiermem binary instead of one built from the tree (a before/after).
# Run from the repository root. Needs redis-server, redis-cli and redis-benchmark (make deps).
# PIN=1 runs each server on CPU 1 and redis-benchmark on CPU 0 (taskset), so that neither server
# takes CPU time from the client: on a 2-CPU machine redis-server uses one CPU, and tiermem's
# runtime, given both, leaves redis-benchmark less than one.
# Prints CSV lines: label,test,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms (redis-benchmark --csv),
# and label,loaded,KEYS,rss_mib,MiB for the memory runs.
set -euo pipefail

mode=${1:-throughput}
work=$(mktemp -d /tmp/redisbench.XXXXXX)
bin=${TIERMEM_BIN:-$work/tiermem}
TM_PORT=${TM_PORT:-6390}
RD_PORT=${RD_PORT:-6391}
pids=()
srv=() cli=()
if [ "${PIN:-0}" = 1 ]; then
	srv=(taskset -c 1) cli=(taskset -c 0)
fi
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

[ -n "${TIERMEM_BIN:-}" ] || go build -o "$bin" ./cmd/tiermem

wait_port() { # port [tries of 50 ms]
	for _ in $(seq 1 "${2:-200}"); do
		redis-cli -p "$1" PING >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "redisbench: nothing answers on port $1" >&2
	return 1
}

start_tiermem() { # extra serve flags...
	rm -rf "$work/tm" && mkdir -p "$work/tm"
	restart_tiermem "$@"
}

restart_tiermem() { # extra serve flags...: on the directory as the last server left it
	"${srv[@]}" "$bin" serve --addr 127.0.0.1:$TM_PORT --http "" --dir "$work/tm" --no-glacier \
		--log-level warn "$@" >"$work/tm.log" 2>&1 &
	tm_pid=$!
	pids+=("$tm_pid")
	wait_port $TM_PORT "${WAIT_TRIES:-200}"
}

start_redis() {
	rm -rf "$work/rd" && mkdir -p "$work/rd"
	"${srv[@]}" redis-server --port $RD_PORT --bind 127.0.0.1 --save '' --appendonly no --dir "$work/rd" \
		--loglevel warning >"$work/rd.log" 2>&1 &
	rd_pid=$!
	pids+=("$rd_pid")
	wait_port $RD_PORT
}

stop() { # pid
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

bench() { # name port redis-benchmark-args...
	local name=$1 port=$2
	shift 2
	"${cli[@]}" redis-benchmark -p "$port" --csv "$@" | tail -n +2 | tr -d '"' | sed "s/^/$name,/"
}

rss_mib() { # pid
	awk '/^VmRSS:/ {printf "%.0f", $2/1024}' "/proc/$1/status"
}

# stop_watched sends SIGTERM and prints how long the process took to exit and
# its peak RSS meanwhile, sampled every 50 ms.
stop_watched() { # label pid
	local start peak=0 r
	start=$(date +%s.%N)
	kill "$2"
	while kill -0 "$2" 2>/dev/null; do
		r=$(rss_mib "$2" 2>/dev/null || echo 0)
		[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
		sleep 0.05
	done
	wait "$2" 2>/dev/null || true
	echo "$1,seconds,$(echo "$(date +%s.%N) - $start" | bc),peak_rss_mib,$peak"
}

# load KEYS sequential keys key:000000000000... (redis-benchmark's __rand_int__ form, 16 bytes)
# with 100-byte values through redis-cli --pipe.
load() { # port keys
	awk -v n="$2" 'BEGIN {
		v = sprintf("%0100d", 0)
		for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$100\r\n%s\r\n", i, v
	}' | redis-cli -p "$1" --pipe >/dev/null
}

# check asks for 2000 random loaded keys and fails unless every one answers its value.
check() { # port keys
	local got
	got=$(awk -v n="$2" 'BEGIN { srand(7); for (i = 0; i < 2000; i++) printf "GET key:%012d\n", int(rand() * n) }' |
		redis-cli -p "$1" | grep -c '^0\{100\}$' || true)
	if [ "$got" != 2000 ]; then
		echo "redisbench: only $got of 2000 GETs on port $1 answered the stored value" >&2
		return 1
	fi
}

case $mode in
throughput)
	rounds=${2:-3}
	start_tiermem --hot 4GiB --warm 1GiB --cold 8GiB
	start_redis
	for r in $(seq 1 "$rounds"); do
		for s in tiermem:$TM_PORT redis:$RD_PORT; do
			bench "${s%%:*},P16,round$r" "${s##*:}" -t set,get -P 16 -c 50 -n 2000000 -d 100 -r 1000000
		done
		for s in redis:$RD_PORT tiermem:$TM_PORT; do
			bench "${s%%:*},P1,round$r" "${s##*:}" -t set,get -P 1 -c 50 -n 200000 -d 100 -r 1000000
		done
	done
	;;
memory)
	keys=${2:-10000000}
	data_mib=$((keys * 116 / 1048576))
	start_redis
	load $RD_PORT "$keys"
	echo "redis,loaded,$keys,rss_mib,$(rss_mib "$rd_pid")"
	check $RD_PORT "$keys"
	bench redis,get-all-in-memory $RD_PORT -t get -P 16 -c 50 -n 1000000 -r "$keys"
	stop "$rd_pid"

	start_tiermem --hot 64MiB --warm 4GiB --cold 16GiB
	load $TM_PORT "$keys"
	echo "tiermem,loaded,$keys,rss_mib,$(rss_mib "$tm_pid")"
	check $TM_PORT "$keys"
	bench tiermem,get-all-in-memory $TM_PORT -t get -P 16 -c 50 -n 1000000 -r "$keys"
	stop "$tm_pid"

	third=$((data_mib / 3))
	start_tiermem --hot $((third / 4))MiB --warm $((third - third / 4))MiB --cold 16GiB
	load $TM_PORT "$keys"
	echo "tiermem-third,loaded,$keys,rss_mib,$(rss_mib "$tm_pid"),budget_mib,$third,data_mib,$data_mib"
	check $TM_PORT "$keys"
	bench tiermem-third,get-from-cold $TM_PORT -t get -P 16 -c 50 -n 1000000 -r "$keys"
	bench tiermem-third,get-from-cold-P1 $TM_PORT -t get -P 1 -c 50 -n 100000 -r "$keys"
	stop "$tm_pid"
	;;
restart)
	keys=${2:-10000000}
	start_tiermem --hot 64MiB --warm 4GiB --cold 16GiB
	load $TM_PORT "$keys"
	echo "tiermem,loaded,$keys,rss_mib,$(rss_mib "$tm_pid")"
	check $TM_PORT "$keys"
	stop_watched "tiermem,shutdown,$keys" "$tm_pid"
	start=$(date +%s.%N)
	WAIT_TRIES=12000 restart_tiermem --hot 64MiB --warm 4GiB --cold 16GiB
	echo "tiermem,restart,$keys,seconds,$(echo "$(date +%s.%N) - $start" | bc),rss_mib,$(rss_mib "$tm_pid")"
	check $TM_PORT "$keys"
	stop_watched "tiermem,shutdown-after-restart,$keys" "$tm_pid"
	;;
expire)
	rounds=${2:-3}
	start_tiermem --hot 4GiB --warm 1GiB --cold 8GiB
	start_redis
	for port in $TM_PORT $RD_PORT; do
		head -c 100 /dev/zero | tr '\0' x | redis-cli -p $port -x SET ttl:small >/dev/null
		head -c 1048576 /dev/zero | tr '\0' x | redis-cli -p $port -x SET ttl:big >/dev/null
	done
	for r in $(seq 1 "$rounds"); do
		for s in tiermem:$TM_PORT redis:$RD_PORT; do
			bench "${s%%:*},round$r" "${s##*:}" -P 16 -c 50 -n 400000 EXPIRE ttl:small 3600
			bench "${s%%:*},round$r" "${s##*:}" -P 16 -c 50 -n 20000 EXPIRE ttl:big 3600
			bench "${s%%:*},round$r" "${s##*:}" -c 10 -n 2000 GETEX ttl:big EX 3600
		done
	done
	;;
*)
	echo "usage: $0 throughput [rounds] | memory [keys] | restart [keys] | expire [rounds]" >&2
	exit 2
	;;
esac
