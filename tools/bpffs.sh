#!/usr/bin/env bash
# Ensure /sys/fs/bpf is a mounted bpffs. Idempotent.
set -euo pipefail

BPFFS=/sys/fs/bpf

is_bpffs() {
	[[ "$(stat -f -c %T "$BPFFS" 2>/dev/null || true)" == "bpf_fs" ]]
}

if is_bpffs; then
	echo "bpffs: $BPFFS already mounted"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "bpffs: error: $BPFFS is not a bpffs and mounting needs root" >&2
	exit 1
fi

mkdir -p "$BPFFS"
if ! mount -t bpf bpf "$BPFFS"; then
	echo "bpffs: error: mount -t bpf bpf $BPFFS failed" >&2
	exit 1
fi
is_bpffs || { echo "bpffs: error: $BPFFS still not a bpffs after mount" >&2; exit 1; }
echo "bpffs: mounted bpffs at $BPFFS"
