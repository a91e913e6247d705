#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/mutations/run.sh [DIR]: shows that each regression test fails on the defect it guards.
# Each DIR/NN-*.patch puts one defect back (the old behaviour, in the fewest lines); DIR/tests.list
# names the test binary that must then fail. For each patch, in a scratch worktree of HEAD:
# apply it, build the test, run it (integration tests under the integration lock), and expect
# a failure; then check that the same test passes without the patch. Prints a line a patch and
# exits non-zero if a mutation survives or a patch no longer applies (the code moved on: make
# the patch again against today's code). Not part of `make test` (it rebuilds a test a patch);
# `make mutations` runs it. Root, like the integration tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/issue10}
top=$(git -C "$here" rev-parse --show-toplevel) || exit 2
wt=$(mktemp -d /tmp/vigil-mutations.XXXXXX)
lock=/tmp/vigil-integration.lock
rc=0

git -C "$top" worktree add -q --detach "$wt" HEAD || exit 2
trap 'git -C "$top" worktree remove --force "$wt"' EXIT
cd "$wt" || exit 2
make -s -j2 build/vigil build/tests/helpers/faulty >/dev/null || { echo "mutations: build failed" >&2; exit 2; }

run() { # BIN: 0 when it passes
	case $1 in
	tests/integration/*) flock "$lock" tests/run-tests "build/$1" ;;
	*) tests/run-tests "build/$1" ;;
	esac >"$wt/out" 2>&1
}

printf '%-32s %-32s %s\n' patch test result
while read -r name bin what; do
	case $name in '' | '#'*) continue ;; esac
	patch=$dir/$name.patch
	if ! git apply "$patch" 2>/dev/null; then
		printf '%-32s %-32s %s\n' "$name" "$bin" "DOES NOT APPLY to HEAD: make it again"
		rc=1
		continue
	fi
	if ! make -s -j2 build/vigil "build/$bin" >/dev/null 2>&1; then
		result="MUTANT DOES NOT BUILD"
		rc=1
	elif run "$bin"; then
		result="SURVIVED: $bin passes with $what"
		rc=1
	else
		result="caught ($(grep -m1 -E 'FAILED  \] [a-z_]+|exited with status' out | sed 's/.*\] //'))"
	fi
	git checkout -q -- .
	make -s -j2 build/vigil "build/$bin" >/dev/null 2>&1
	if ! run "$bin"; then
		result="$result; FAILS WITHOUT THE PATCH TOO"
		rc=1
	fi
	printf '%-32s %-32s %s\n' "$name" "$bin" "$result"
done <"$dir/tests.list"
exit $rc
