#!/usr/bin/env bash
# Install the Debian packages ffpf-bpf needs to build and test
# (bash tools/deps.sh), and to benchmark (bash tools/deps.sh bench).
# Idempotent: does nothing (and never touches apt) when all are present.
set -euo pipefail

PKGS=(
	build-essential pkg-config clang llvm
	libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
	libcriterion-dev libpcap-dev
	libclang-rt-14-dev
	tcpdump tshark iproute2 iputils-ping curl python3 nfdump libfixbuf-tools
	netcat-openbsd ethtool procps
	g++ python3-dev python3-setuptools python3-pytest
	python3-aiosmtpd
)

# `deps.sh bench` (make bench): also what the benchmarks compare against
# and plot with; never needed by make test.
if [[ "${1:-}" == bench ]]; then
	PKGS+=(xdp-tools gnuplot-nox)
fi

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | head -n1 || true)
	if [[ "$st" != "installed" ]]; then
		missing+=("$p")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#PKGS[@]} packages already installed"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "deps: error: missing packages (${missing[*]}) and not root; run as root: sudo bash $0" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"; } >"$log" 2>&1; then
	echo "deps: error: apt-get failed; last output:" >&2
	tail -n 30 "$log" >&2
	exit 1
fi

# Verify.
still=()
for p in "${missing[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | head -n1 || true)
	[[ "$st" == "installed" ]] || still+=("$p")
done
if ((${#still[@]})); then
	echo "deps: error: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "deps: done"
