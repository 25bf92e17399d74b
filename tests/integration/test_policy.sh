#!/usr/bin/env bash
# Integration test: the policy file and the authorisation check (issue 6).
#   - a real unprivileged user (created here, deleted on exit) and a group
#     of its own: `check --as USER --policy FILE` answers allowed or denied
#     with the rule (FILE:LINE) and the filter named, exit 0 / 3
#   - the ordering constraint both ways: payload after a prefixset inside
#     10.1.0.0/16 is allowed, payload reachable without it (alone, after a
#     wider prefix, on the reject side of an alternation) is denied
#   - snaplen cap, rx stats-only, interface globs, the group's section
#   - a policy syntax error names FILE:LINE:COL (exit 2)
#   - `run` as root with FFPF_POLICY denying root's graph is refused before
#     anything is attached: no XDP program on the veth afterwards; the same
#     run under a policy that allows it attaches and counts
#   - the library's identity is the real uid: the user's own `run` is
#     refused by the policy with the rule named
#
# All traffic stays inside the namespaces created by tests/lib/netns.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/ffpf.sh
source "$HERE/../lib/ffpf.sh"

ff_need_root_and_tools ping useradd userdel groupadd groupdel runuser
ffpf_setup

# A user and a group of their own, unique to this run.
U=fp${FF_PREFIX} G=fg${FF_PREFIX}
groupadd "$G"
ns_on_cleanup "groupdel '$G' >/dev/null 2>&1"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$U"
ns_on_cleanup "userdel '$U' >/dev/null 2>&1"
t_check "user $U created (uid > 0)" yes "$([[ $(id -u "$U") -gt 0 ]] && echo yes || echo no)"

pol=$FF_TMP/policy.conf
cat >"$pol" <<POLICY
# test_policy.sh
user $U
  interfaces lo ${FF_PREFIX}*
  classes match count prefixset payload
  require payload after prefixset(allow, 10.1.0.0/16) or match(net 10.1.0.0/16)
  rx none copy
  snaplen 256

group $G
  interfaces lo
  classes count
POLICY

# as_check WANT_RC ARGS...: run `check --as $U --policy $pol ARGS`; sets OUT, RC.
as_check() {
	local want=$1 rc=0
	shift
	OUT=$("$FFPF" check --as "$U" --policy "$pol" "$@" 2>&1) || rc=$?
	RC=$rc
	[[ $rc -eq $want ]]
}

# allowed NAME ARGS...
allowed() {
	local name=$1
	shift
	if as_check 0 "$@" && [[ "$OUT" == allowed:* ]]; then
		t_pass "allowed: $name"
	else
		t_fail "allowed: $name" "exit $RC: $OUT"
	fi
}
# denied NAME RULE_LINE FILTER ARGS...: exit 3, the rule $pol:LINE and FILTER named
denied() {
	local name=$1 line=$2 filt=$3
	shift 3
	if as_check 3 "$@" && [[ "$OUT" == denied:* && "$OUT" == *"$pol:$line ("* &&
		"$OUT" == *"$filt"* ]]; then
		t_pass "denied: $name (${OUT##*): })"
	else
		t_fail "denied: $name" "want exit 3, $pol:$line and '$filt'; exit $RC: $OUT"
	fi
}

echo "--- check --as: the ordering constraint"
allowed "payload after prefixset(src, allow, 10.1.0.0/16)" \
	'prefixset(src, allow, 10.1.0.0/16) -> payload("GET")'
allowed "payload after two /24s inside 10.1.0.0/16" \
	'prefixset(dst, allow, 10.1.2.0/24, 10.1.3.0/24) -> count -> payload("GET")'
allowed "payload after match(src net 10.1.7.0/24)" \
	'match(tcp, src net 10.1.7.0/24) -> payload("GET")'
allowed "payload after either branch restricts" \
	'(prefixset(src, allow, 10.1.0.0/16) -> count | prefixset(dst, allow, 10.1.5.0/24)) -> payload("x")'
denied "payload alone" 5 "filter 0 (payload, spec:1:1)" 'payload("GET")'
denied "payload after 10.0.0.0/8" 5 "filter 1 (payload" \
	'prefixset(src, allow, 10.0.0.0/8) -> payload("GET")'
denied "payload after a deny-mode prefixset" 5 "filter 1 (payload" \
	'prefixset(src, deny, 10.1.0.0/16) -> payload("GET")'
denied "payload on the reject side of an alternation" 5 "filter 1 (payload, spec:1:38)" \
	'prefixset(src, allow, 10.1.0.0/16) | payload("GET")'
denied "payload after (prefixset | count)" 5 "filter 2 (payload" \
	'(prefixset(src, allow, 10.1.0.0/16) | count) -> payload("GET")'
if as_check 0 'w :: prefixset(src, allow, 10.1.0.0/16)' 'w -> payload("GET")' &&
	[[ "$(grep -c '^allowed:' <<<"$OUT")" == 2 ]]; then
	t_pass "allowed: a named instance defined in one spec, used in the next"
else
	t_fail "allowed: a named instance defined in one spec, used in the next" "exit $RC: $OUT"
fi

echo "--- check --as: classes, interfaces, rx, snaplen"
denied "class sample not listed" 4 "filter 1 (sample, spec:1:15)" 'match(udp) -> sample(2)'
allowed "interface glob ${FF_PREFIX}*" -i "$IF_S" 'match(udp) -> count'
denied "interface eth9 not listed" 3 "interface eth9" -i eth9 'count'
allowed "copy with snaplen 256" --copy -s 256 'count'
denied "snaplen 1500 above 256" 7 "snaplen 1500" --copy -s 1500 'count'
denied "tap mode" 6 "receive mode tap" --tap -s 128 'count'
if as_check 3 'count' 'payload("x")' && [[ "$OUT" == "allowed: count"*$'\n'"denied: "* ]]; then
	t_pass "two specs: one line each, exit 3"
else
	t_fail "two specs" "exit $RC: $OUT"
fi
if as_check 2 'count ->' && [[ "$OUT" == *"spec:1:9:"* ]]; then
	t_pass "a spec error is exit 2 (spec:1:9)"
else
	t_fail "spec error" "exit $RC: $OUT"
fi

echo "--- the group's section applies without a user section"
sed -i "s/^user $U\$/user someone-else/" "$pol"
allowed "group $G: count on lo" 'count'
denied "group $G: match not listed" 11 "filter 0 (match" 'match(udp) -> count'

echo "--- policy syntax errors"
bad=$FF_TMP/bad.conf
printf 'user %s\n  interfaces lo\n  snaplen big\n' "$U" >"$bad"
rc=0
out=$("$FFPF" check --as "$U" --policy "$bad" count 2>&1) || rc=$?
t_check "syntax error: exit 2 and $bad:3:11" "2 $bad:3:11:" "$rc ${out%% *}"
rc=0
out=$("$FFPF" check --as "$U" --policy "$FF_TMP/missing.conf" count 2>&1) || rc=$?
t_check "missing --policy file: exit 2" "2" "$rc"

echo "--- run as root under a policy that denies root's graph"
rpol=$FF_TMP/root.conf
printf 'user root\n  interfaces %s\n  classes count\n' "$IF_S" >"$rpol"
rc=0
out=$(FFPF_POLICY=$rpol ffpf "$NS_S" run -i "$IF_S" --flow 'p=match(icmp) -> count' -d 1 2>&1) || rc=$?
if ((rc != 0)) && [[ "$out" == *"refused by policy: $rpol:3 (user root: classes count)"* &&
	"$out" == *"filter 0 (match"* ]]; then
	t_pass "run refused (exit $rc): ${out%%$'\n'*}"
else
	t_fail "run refused by policy" "exit $rc: $out"
fi
if ff_has_xdp "$NS_S" "$IF_S"; then
	t_fail "nothing attached after the refusal" "$(ip -n "$NS_S" -d link show "$IF_S")"
else
	t_pass "nothing attached to $IF_S after the refusal"
fi
t_check "no pins left for $IF_S" no "$([[ -e $FF_PIN_ROOT/$IF_S ]] && echo yes || echo no)"

printf 'user root\n  interfaces %s\n  classes match count\n' "$IF_S" >"$rpol"
if FFPF_POLICY=$rpol ffpf_start "$NS_S" allowed -i "$IF_S" --flow 'p=match(icmp) -> count' \
	--interval 0.5 --json; then
	ns_c ping -c 3 -i 0.05 -W 2 -q "$IP_S" >/dev/null 2>&1 || true
	ffpf_stop allowed
	pk=$(ff_json "$FF_TMP/allowed.out" 'flow("p")["packets"]' 2>/dev/null || echo "?")
	t_check "run under a policy that allows the graph counts 3 echo requests" 3 "$pk"
else
	t_fail "run under an allowing policy" "$(tail -n 3 "$FF_TMP/allowed.err")"
fi

echo "--- the library checks the real uid: $U's own run"
chmod 755 "$FF_TMP"
chmod 644 "$pol"
sed -i "s/^user someone-else\$/user $U/" "$pol"
rc=0
out=$(runuser -u "$U" -- env FFPF_POLICY="$pol" "$FFPF" run -i lo --flow 'p=payload("x")' -d 1 2>&1) || rc=$?
if ((rc != 0)) && [[ "$out" == *"refused by policy: $pol:5 (user $U: require payload after"* ]]; then
	t_pass "$U's run refused by the policy with the rule named"
else
	t_fail "$U's run refused by the policy" "exit $rc: $out"
fi

t_summary
