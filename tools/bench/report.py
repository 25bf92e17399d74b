#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tools/bench/report.py OUTDIR COUNT RUNS FLOWS COMMAND - make bench's report.

Reads OUTDIR/raw.jsonl (one line per measurement, from tools/bench/run.sh)
and the in-kernel benches' output (OUTDIR/nsbench.txt, ftbench.txt,
plbench.txt); writes OUTDIR/results.md, results.json, apps.dat and, with
gnuplot, apps.png; prints results.md. Medians over the rounds; every ratio
is the median of the per-round ratios of two scenarios measured in the
same round (the machine drifts between rounds, not within one).
"""
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

OUT, COUNT, RUNS, FLOWS, COMMAND = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]

LABELS = {
    "drop": (1, "bare XDP_DROP counter (ceiling)"),
    "xsk": (1, "bare AF_XDP copy-mode receiver (ceiling)"),
    "ffpf-tap": (2, "ffpf-bpf run --tap -w /dev/null"),
    "ffpf-copy": (2, "ffpf-bpf run --copy -w /dev/null"),
    "tcpdump": (2, "tcpdump -w /dev/null"),
    "xdpdump": (2, "xdpdump -w /dev/null (on a bare XDP_PASS program)"),
    "pass": (4, "bare XDP_PASS counter (packets go on to the stack)"),
    "count": (4, "ffpf-bpf run, match(udp) -> count (statistics only)"),
    "flowtrack": (4, "ffpf-bpf flows (flowtrack records, statistics only)"),
    "count-monitor": (4, "ffpf-bpf run --monitor, match(udp) -> count (counted, then dropped)"),
    "flowtrack-monitor": (4, "ffpf-bpf flows --monitor (flow records, then dropped)"),
}


def label(scen):
    if scen in LABELS:
        return LABELS[scen][1]
    kind, n = scen.rsplit("-", 1)
    return {
        "ffpf": f"ffpf-bpf run --copy, {n} flows in one process",
        "group": f"{n} ffpf-bpf run --group processes, one flow group (daemon)",
        "tcpdump": f"{n} tcpdump processes",
    }[kind]


def sh(cmd):
    try:
        out = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except Exception:
        return "n/a"


rows = [json.loads(line) for line in open(os.path.join(OUT, "raw.jsonl")) if line.strip()]


def metrics(r):
    """Per-measurement figures, or None if it failed."""
    if r.get("error") or not r.get("seconds"):
        return None
    m = {"kernel_pps": r["gen_pps"], "sent": r["sent"]}
    if r["delivered"]:
        tot = sum(r["delivered"])
        m["delivered_pps"] = tot / r["seconds"]
        m["per_app_pps"] = m["delivered_pps"] / r["apps"]
        m["loss"] = 1 - tot / (r["apps"] * r["sent"]) if r["sent"] else None
    return m


by = {}  # (scenario, size) -> {run: metrics}
errors = {}
order = []
for r in rows:
    key = (r["scenario"], r["size"])
    if key not in order:
        order.append(key)
    m = metrics(r)
    if m is None:
        errors.setdefault(key, r.get("error") or "failed")
    else:
        by.setdefault(key, {})[r["run"]] = m


def med(key, field):
    vals = [m[field] for m in by.get(key, {}).values() if m.get(field) is not None]
    return statistics.median(vals) if vals else None


def ratio(a, b, fa, fb):
    """Median over rounds of a.fa / b.fb (same round)."""
    ra, rb = by.get(a, {}), by.get(b, {})
    vals = [ra[k][fa] / rb[k][fb] for k in ra if k in rb and ra[k].get(fa) and rb[k].get(fb)]
    return statistics.median(vals) if vals else None


sizes = sorted({k[1] for k in order})
small = sizes[0]

# --- group 5: the in-kernel benches ----------------------------------------------
def read(name):
    p = os.path.join(OUT, name)
    return open(p).read() if os.path.exists(p) else ""


nsb = read("nsbench.txt")
ns_rows = {}
for line in nsb.splitlines():
    m = re.match(r"\|\s*([^|]+?)\s*\|\s*([0-9.]+)\s*\|", line)
    if m:
        ns_rows[m.group(1)] = float(m.group(2))
chain = {n: ns_rows.get(k) for n, k in ((1, "1 flow: count"), (4, "1 flow: count x4"),
                                         (8, "1 flow: count x8"), (16, "1 flow: count x16"))}
bare = {n: ns_rows.get(k) for n, k in ((1, "bare: parse + count"), (4, "bare: parse + count x4"),
                                        (8, "bare: parse + count x8"),
                                        (16, "bare: parse + count x16"))}


def per_stage(c):
    return None if c[1] is None or c[16] is None else (c[16] - c[1]) / 15


stage_ns, bare_stage_ns = per_stage(chain), per_stage(bare)

# --- targets -------------------------------------------------------------------------
targets = []


def target(name, value, goal, ok):
    targets.append({"target": name, "value": value, "goal": goal,
                    "met": None if value is None else ok(value)})


n_max = max((int(s.split("-")[1]) for s, z in order if s.startswith("ffpf-") and
             s.split("-")[1].isdigit()), default=None)
for size in sizes:
    if n_max and (f"ffpf-{n_max}", size) in order:
        for kind in ("ffpf", "group"):
            target(f"{n_max} applications, {size} B: {kind}-{n_max} / tcpdump-{n_max} delivered",
                   ratio((f"{kind}-{n_max}", size), (f"tcpdump-{n_max}", size),
                         "delivered_pps", "delivered_pps"), ">= 10", lambda v: v >= 10)
            target(f"{n_max} applications, {size} B: {kind}-{n_max} loss",
                   med((f"{kind}-{n_max}", size), "loss"), "0", lambda v: v <= 0)
    for mode in ("tap", "copy"):
        for ref, goal in (("xsk", 0.9), ("tcpdump", 4), ("xdpdump", 6)):
            target(f"1 application, {size} B: ffpf-{mode} / {ref} delivered",
                   ratio((f"ffpf-{mode}", size), (ref, size), "delivered_pps", "delivered_pps"),
                   f">= {goal}", lambda v, g=goal: v >= g)
    # --monitor ends every packet in XDP_DROP, as the ceiling does: the
    # like-for-like comparison; without it packets go on to the stack
    for st in ("flowtrack-monitor", "count-monitor"):
        target(f"statistics only, {size} B: {st} / XDP_DROP kernel rate",
               ratio((st, size), ("drop", size), "kernel_pps", "kernel_pps"), ">= 0.8",
               lambda v: v >= 0.8)
    for st in ("flowtrack", "count"):
        # not a target: packets go on to the stack, so against a bare
        # program that also passes every packet on
        target(f"(reference) statistics only, {size} B: {st} / XDP_PASS kernel rate",
               ratio((st, size), ("pass", size), "kernel_pps", "kernel_pps"), "-",
               lambda v: None)
target("each extra chain stage (count x16 - count x1) / 15, ns", stage_ns, "<= 3",
       lambda v: v <= 3)

# --- output --------------------------------------------------------------------------
env = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "command": COMMAND,
    "kernel": platform.release(),
    "cpu": sh("lscpu | sed -n 's/^Model name: *//p'") + f", {os.cpu_count()} CPUs",
    "load_average": sh("cat /proc/loadavg"),
    "ffpf-bpf": sh("build/ffpf-bpf version"),
    "tcpdump": sh("tcpdump --version"),
    "libpcap": sh("tcpdump --version 2>&1 | sed -n 2p"),
    "xdpdump": sh("xdpdump --version"),
    "libbpf": sh("pkg-config --modversion libbpf"),
    "libxdp": sh("pkg-config --modversion libxdp"),
    "clang": sh("clang --version"),
    "frames": COUNT, "rounds": RUNS, "flows": FLOWS,
}


def fmt(v, scale=1e-6, nd=2):
    return "-" if v is None else f"{v * scale:.{nd}f}"


def pct(v):
    return "-" if v is None else f"{100 * v:.1f}%"


md = []
md.append("# make bench: results\n")
for k in ("date", "command", "kernel", "cpu", "load_average", "ffpf-bpf", "tcpdump", "libpcap",
          "xdpdump", "libbpf", "libxdp", "clang"):
    md.append(f"- {k}: `{env[k]}`")
md.append(f"- traffic: build/ffpf-gen, XDP live frames, {COUNT} UDP frames per measurement, "
          f"{FLOWS} flows; sizes {', '.join(str(s) for s in sizes)} B without FCS; "
          f"medians of {RUNS} interleaved rounds\n")
md.append("kernel = the rate the receiving kernel side sustained (the generator's rate: the "
          "receiver's XDP and NAPI work runs inside its test runs); delivered = packets the "
          "applications got in user space (sum over the applications) per second of sending; "
          "loss = 1 - delivered / (applications x sent). Mpps.\n")
table = []
for group in (1, 2, 3, 4):
    md.append(f"\n## Group {group}: " + {1: "ceilings", 2: "one application capturing",
                                         3: "N applications, each its own filter, same traffic",
                                         4: "statistics only"}[group] + "\n")
    md.append("| scenario | size | kernel Mpps | delivered Mpps | per app Mpps | loss |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for key in order:
        scen, size = key
        g = LABELS[scen][0] if scen in LABELS else 3
        if g != group:
            continue
        row = {"group": g, "scenario": scen, "label": label(scen), "size": size,
               "kernel_mpps": med(key, "kernel_pps"), "delivered_mpps": med(key, "delivered_pps"),
               "per_app_mpps": med(key, "per_app_pps"), "loss": med(key, "loss"),
               "runs": len(by.get(key, {})), "error": errors.get(key)}
        for f in ("kernel_mpps", "delivered_mpps", "per_app_mpps"):
            if row[f] is not None:
                row[f] = round(row[f] / 1e6, 3)
        table.append(row)
        if not by.get(key):
            md.append(f"| {label(scen)} | {size} | n/a: {errors.get(key, '')} | | | |")
            continue
        md.append(f"| {label(scen)} | {size} | {fmt(med(key, 'kernel_pps'))} | "
                  f"{fmt(med(key, 'delivered_pps'))} | {fmt(med(key, 'per_app_pps'))} | "
                  f"{pct(med(key, 'loss'))} |")

md.append("\n## Group 5: in-kernel ns/packet (BPF_PROG_TEST_RUN)\n")
md.append("| chain of count stages | 1 | 4 | 8 | 16 | per extra stage |")
md.append("|---|---:|---:|---:|---:|---:|")
for what, c, st in (("ffpf-bpf: 1 flow, count x N (root, guard, sink included)", chain, stage_ns),
                    ("bare: parse + N count stages by tail call", bare, bare_stage_ns)):
    md.append(f"| {what} | " + " | ".join(
        "-" if c[n] is None else f"{c[n]:.1f}" for n in (1, 4, 8, 16)) +
        f" | {'-' if st is None else f'{st:.2f}'} |")
md.append("\n(ns/packet, median over the rounds, one ffpf-nsbench run; the parser alone: "
          f"ffpf-bpf {ns_rows.get('parse only (1 paused flow)', '-')}, bare "
          f"{ns_rows.get('bare: parse only', '-')})")
for name, text in (("ffpf-nsbench", nsb), ("ffpf-ftbench", read("ftbench.txt")),
                   ("ffpf-plbench", read("plbench.txt"))):
    if text:
        md.append(f"\n### {name}\n")
        md.append("\n".join(l for l in text.splitlines() if l.strip()))

md.append("\n## Targets (ratios: medians of per-round ratios)\n")
md.append("| target | value | goal | met |")
md.append("|---|---:|---:|---|")
for t in targets:
    v = "-" if t["value"] is None else (f"{t['value']:.3f}" if "loss" not in t["target"]
                                        else pct(t["value"]))
    met = {None: "n/a" if t["goal"] != "-" else "-", True: "yes", False: "**no**"}[t["met"]]
    md.append(f"| {t['target']} | {v} | {t['goal']} | {met} |")

# apps.dat + plot: delivered per application count
dat = ["# N ffpf(one process) group(daemon) tcpdump  -- delivered Mpps, size %d" % small]
napps = sorted({int(s.split("-")[1]) for s, z in order
                if z == small and s.split("-")[-1].isdigit()})
for n in napps:
    vals = [med((f"{k}-{n}", small), "delivered_pps") for k in ("ffpf", "group", "tcpdump")]
    dat.append(f"{n} " + " ".join("NaN" if v is None else f"{v / 1e6:.4f}" for v in vals))
open(os.path.join(OUT, "apps.dat"), "w").write("\n".join(dat) + "\n")
png = os.path.join(OUT, "apps.png")
if napps and shutil.which("gnuplot"):
    gp = f"""set terminal pngcairo size 800,500 noenhanced
set output '{png}'
set title 'Delivered packets/s (sum over applications), {small + 4}-byte UDP frames, {FLOWS} flows, {env["kernel"]}'
set xlabel 'applications (each its own filter, all traffic matches)'
set ylabel 'delivered Mpps'
set logscale x 2
set xtics ({", ".join(str(n) for n in napps)})
set xrange [{napps[0] * 0.8}:{napps[-1] * 1.25}]
set yrange [0:*]
set key below
set grid
plot '{OUT}/apps.dat' using 1:2 with linespoints lw 2 title 'ffpf-bpf, N flows in one process', \\
     '' using 1:3 with linespoints lw 2 title 'ffpf-bpf, N processes in one flow group (daemon)', \\
     '' using 1:4 with linespoints lw 2 title 'N tcpdump processes'
"""
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode:
        # pngcairo may be missing from gnuplot-nox: the plain png terminal
        r = subprocess.run(["gnuplot"], input=gp.replace("pngcairo", "png"), text=True,
                           capture_output=True)
    md.append(f"\nPlot: {png}" if not r.returncode else f"\nPlot failed: {r.stderr.strip()}")

text = "\n".join(md) + "\n"
open(os.path.join(OUT, "results.md"), "w").write(text)
json.dump({"env": env, "rows": table, "chain_ns": chain, "stage_ns": stage_ns,
           "bare_chain_ns": bare, "bare_stage_ns": bare_stage_ns,
           "nsbench": ns_rows, "targets": targets, "raw": rows},
          open(os.path.join(OUT, "results.json"), "w"), indent=1)
print(text)
