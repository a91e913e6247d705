#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Robustness fuzzing of every parser of outside input: the config, the JSON writer and
# scanner, the healer's state read back (its file, or Redis's copy), Redis's replies on the
# approvals stream and of the fleet's knowledge, the journal's readers, the spool and the
# knowledge file as found on disk, ring-buffer records, the control socket's request line,
# Alertmanager's webhook payload (POST /v1/alerts), and a process's /proc/PID/cgroup and its
# container's config.json (the pod of a process).
# Builds into build/fuzz/ and runs each target named (default: all but oom) for SECONDS
# (default 60):
#
#   tests/fuzz/run.sh [SECONDS] [config] [json] [json_scan] [state] [redis_reply] [journal]
#                     [fleet] [spool] [knowledge] [decode] [ctl] [otlp_reply] [traceparent]
#                     [alerts] [pods] [oom]
#
#   config, json, json_scan
#                 libFuzzer harnesses with ASan, UBSan and LeakSanitizer (clang); json_scan
#                 cross-checks the scanner against jansson; state checks that what is read
#                 writes back and reads again to the same text; redis_reply feeds RESP bytes
#                 through hiredis's reader to the approvals walk; journal reads any bytes as a
#                 rotated journal the way vigil incidents, incident and export do, and checks
#                 the torn-line parse and the terminal-safe copy of every line; fleet answers
#                 SMEMBERS and HGETALL for vigil_fleet_load over a socketpair; spool writes the
#                 input as a spool file in /dev/shm, opens (recovers) it, walks it and appends
#                 after; knowledge loads the input as the knowledge file; decode checks a
#                 ring-buffer record and takes an accepted one through the detector to its JSON
#                 record; ctl splits a request line as the control socket's server does;
#                 otlp_reply reads the input as an OTLP receiver's reply (its partialSuccess)
#                 and as a record for the OTLP encoder;
#                 traceparent runs the kernel's traceparent parser (include/vigil/traceparent.h)
#                 on any bytes as a read and as an environment, against a reference;
#                 alerts decodes a webhook payload (seeded with real Alertmanager 0.25
#                 payloads) and takes each alert to its workload and signature; pods reads
#                 the input as /proc/PID/cgroup, as each of its lines' paths, and as a
#                 config.json of each runtime, and checks what is found (a uid, a container
#                 id, names that pass the Kubernetes rules; nothing on a refusal).
#                 -timeout=2
#                 makes an input that takes longer (a parser that does not stop) a failure, as a
#                 crash, a leak or a broken contract is. New inputs go to build/fuzz/corpus_<t>/,
#                 seeded from tests/fuzz/corpus_<t>/ when it exists; a failing input is saved as
#                 build/fuzz/artifacts/<t>-crash-... (or -leak-, -timeout-). Replay one with
#                 build/fuzz/fuzz_<t> FILE.
#   oom           every allocation of a parse failing in turn, over the config corpus (what
#                 libFuzzer cannot do: ASan owns malloc): -ENOMEM, no leak, no hang.
#
# Exits non-zero if any target failed.
set -eu

cd "$(dirname "$0")/../.."
secs=${1:-60}
[ $# -gt 0 ] && shift
all="config json json_scan state redis_reply journal fleet spool knowledge decode ctl otlp_reply traceparent alerts pods"
targets=${*:-$all}
out=${OUT:-build}/fuzz
cc=${CLANG:-clang}
warn="-std=gnu11 -g -Wall -Wextra -Werror -Wno-missing-field-initializers"
inc="-Iinclude -Iuserspace -Itests/lib -I${OUT:-build} -I/usr/include/postgresql -D_GNU_SOURCE"
san="-O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
# The parser is instrumented; what it links beyond itself (the action kinds it asks to
# validate, and what they use) comes from the daemon's own library, built first.
config_srcs="$(ls userspace/config/*.c) userspace/core/classes.c"
lib="${OUT:-build}/libvigil.a"
libs="-lbpf -lelf -lz -lcyaml -lyaml -ljansson -lhiredis -lcurl -lpthread -lpq"
make --no-print-directory "$lib" >/dev/null

mkdir -p "$out/artifacts"
status=0
for t in $targets; do
	echo "run.sh: $t for ${secs}s"
	case $t in
	config)
		# shellcheck disable=SC2086 # flags and sources are lists of words
		$cc $warn $san $inc tests/fuzz/fuzz_config.c $config_srcs "$lib" $libs \
			-o "$out/fuzz_config"
		opts=-dict=tests/fuzz/config.dict ;;
	json)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_json.c userspace/core/json.c -o "$out/fuzz_json"
		opts= ;;
	json_scan)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_json_scan.c userspace/core/json_scan.c \
			userspace/core/json.c -ljansson -o "$out/fuzz_json_scan"
		opts=-dict=tests/fuzz/json.dict ;;
	state)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_state.c userspace/heal/state.c \
			userspace/core/json.c "$lib" $libs -o "$out/fuzz_state"
		opts=-dict=tests/fuzz/json.dict ;;
	journal)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_journal.c userspace/output/journal.c \
			userspace/control/history.c userspace/output/export.c userspace/core/text.c \
			"$lib" $libs -o "$out/fuzz_journal"
		opts=-dict=tests/fuzz/json.dict ;;
	redis_reply)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_redis_reply.c userspace/output/redis_watch.c \
			"$lib" $libs -o "$out/fuzz_redis_reply"
		opts= ;;
	fleet)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_fleet.c userspace/output/redis_reader.c \
			"$lib" $libs -o "$out/fuzz_fleet"
		opts="-dict=tests/fuzz/redis.dict -max_len=16384" ;;
	spool)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_spool.c userspace/output/spool.c "$lib" $libs \
			-o "$out/fuzz_spool"
		opts=-dict=tests/fuzz/spool.dict ;;
	knowledge)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_knowledge.c userspace/heal/knowledge.c "$lib" \
			$libs -o "$out/fuzz_knowledge"
		opts=-dict=tests/fuzz/knowledge.dict ;;
	decode)
		# shellcheck disable=SC2086
		# fuzz_decode.c includes kernel/collector.c (its ring-buffer callback is static)
		$cc $warn $san $inc tests/fuzz/fuzz_decode.c userspace/detect/detector.c \
			userspace/output/records.c "$lib" $libs -o "$out/fuzz_decode"
		opts= ;;
	traceparent)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_traceparent.c userspace/detect/trace.c "$lib" \
			$libs -o "$out/fuzz_traceparent"
		opts="-dict=tests/fuzz/traceparent.dict -max_len=40000" ;;
	ctl)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_ctl.c userspace/control/ctl.c "$lib" $libs \
			-o "$out/fuzz_ctl"
		opts= ;;
	alerts)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_alerts.c userspace/detect/alerts.c "$lib" \
			$libs -o "$out/fuzz_alerts"
		opts=-dict=tests/fuzz/json.dict ;;
	pods)
		# shellcheck disable=SC2086
		$cc $warn $san $inc tests/fuzz/fuzz_pods.c userspace/detect/pod_id.c "$lib" $libs \
			-o "$out/fuzz_pods"
		opts="-dict=tests/fuzz/pods.dict -max_len=70000" ;;
	otlp_reply)
		# shellcheck disable=SC2086
		$cc $warn $san $inc -DVIGIL_VERSION='"fuzz"' tests/fuzz/fuzz_otlp_reply.c \
			userspace/output/otlp_logs.c "$lib" $libs -o "$out/fuzz_otlp_reply"
		opts=-dict=tests/fuzz/json.dict ;;
	oom)
		# shellcheck disable=SC2086
		$cc $warn -O1 $inc tests/fuzz/oom_config.c tests/lib/failalloc.c $config_srcs \
			"$lib" $libs -ldl -o "$out/oom_config"
		"$out/oom_config" "$secs" "$out"/corpus_config/* tests/fuzz/corpus_config/* ||
			status=1
		continue ;;
	*)
		echo "run.sh: unknown target '$t' ($all oom)" >&2
		exit 2 ;;
	esac
	seeds=
	[ -d "tests/fuzz/corpus_$t" ] && seeds=tests/fuzz/corpus_$t
	mkdir -p "$out/corpus_$t"
	# shellcheck disable=SC2086 # opts and seeds may be empty
	"$out/fuzz_$t" -max_total_time="$secs" -timeout=2 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" $opts "$out/corpus_$t" $seeds || status=1
done
exit $status
