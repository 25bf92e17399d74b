#!/usr/bin/env bash
# tests/fuzz/cov.sh - source line coverage of a fuzz target's corpus.
#
#   bash tests/fuzz/cov.sh [NAME [FILE...]]     (default: spec user/lib/spec.c user/lib/args.c)
#
# Builds build/fuzz/cov/fuzz_NAME with clang's source-based coverage (no
# sanitizers), replays build/fuzz/corpus/NAME/ and tests/fuzz/corpus/NAME/
# once, and prints llvm-cov's report for FILE... (the files the target is
# about). Needs the normal build's skeletons (make) and llvm-cov/llvm-profdata
# (Debian's llvm package).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
name=${1:-spec}
name=${name#fuzz_}
shift $(($# ? 1 : 0))
files=("$@")
((${#files[@]})) || files=(user/lib/spec.c user/lib/args.c)

out=build/fuzz/cov
mkdir -p "$out"
libs=$(pkg-config --libs libxdp libbpf)
# shellcheck disable=SC2086
clang -g -O1 -std=gnu11 -D_GNU_SOURCE -DFFPF_VERSION='"cov"' -Iinclude -Iuser/lib -Ibuild/skel \
	-fprofile-instr-generate -fcoverage-mapping -fsanitize=fuzzer \
	"tests/fuzz/fuzz_$name.c" user/lib/*.c -o "$out/fuzz_$name" $libs -lpcap -lelf -lz
dirs=()
for d in "build/fuzz/corpus/$name" "tests/fuzz/corpus/$name"; do
	[[ -d "$d" ]] && dirs+=("$d")
done
LLVM_PROFILE_FILE="$out/$name.profraw" "$out/fuzz_$name" -runs=0 "${dirs[@]}" >"$out/$name.log" 2>&1
llvm-profdata merge -sparse "$out/$name.profraw" -o "$out/$name.profdata"
llvm-cov report "$out/fuzz_$name" -instr-profile="$out/$name.profdata" "${files[@]}"
