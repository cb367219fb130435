"""Turns the JSON lines of scripts/bench-all.sh into the ratio table of docs/BENCHMARKS.md.

    python3 scripts/bench-table.py --results FILE [--write docs/BENCHMARKS.md] [--load-before L]
                                   [--load-after L] [--minutes N] [--form full|quick]

Without --write the table is printed. With it, the text between the lines
`<!-- bench-all:begin -->` and `<!-- bench-all:end -->` of that file is replaced (the markers are
added at the end of the file's introduction if missing); nothing else of the file changes.
A figure that was not measured shows as "not measured" rather than being left out.
"""
import argparse
import datetime
import json
import os
import subprocess

BEGIN = "<!-- bench-all:begin -->"
END = "<!-- bench-all:end -->"
API_TARGET = "≥ 20× moto, ≥ 50 % of bare Jetty"


def load(path):
    figures = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                figures[(r["bench"], r["target"])] = r
    return figures


def fmt(v, digits=0):
    if v is None:
        return "not measured"
    return f"{v:,.{digits}f}"


def verdict(checks):
    if any(c is None for c in checks):
        return "not measured"
    return "met" if all(checks) else "**not met**"


def api_row(figures, bench, title, target=API_TARGET):
    c = figures.get((bench, "citadel"), {}).get("calls_per_s")
    m = figures.get((bench, "moto"), {}).get("calls_per_s")
    j = figures.get((bench, "jetty"), {}).get("calls_per_s")
    vs_moto = c / m if c and m else None
    vs_limit = c / j if c and j else None
    if target == API_TARGET:
        met = verdict([None if vs_moto is None else vs_moto >= 20, None if vs_limit is None else vs_limit >= 0.5])
    else:
        met = "—"
    return [title, fmt(c), fmt(m), fmt(j) + " (bare Jetty)" if j else "not measured",
            f"{vs_moto:.1f}×" if vs_moto else "—", f"{100 * vs_limit:.0f} %" if vs_limit else "—", target, met]


def rows(figures):
    out = [
        api_row(figures, "get-caller-identity", "GetCallerIdentity, calls/s"),
        api_row(figures, "kms-encrypt", "KMS Encrypt of 1 KiB, calls/s"),
        api_row(figures, "s3-get", "S3 GetObject of 1 KiB, calls/s"),
        api_row(figures, "s3-put", "S3 PutObject of 1 KiB, calls/s", target="— (none set)"),
        api_row(figures, "describe-training-job", "DescribeTrainingJob, calls/s"),
    ]
    limit = figures.get(("s3-1gib", "aes-gcm-limit"), {}).get("mb_per_s")
    for mode in ("single", "multipart"):
        c = figures.get(("s3-1gib-" + mode, "citadel"))
        m = figures.get(("s3-1gib-" + mode, "moto"))
        size = (c or m or {}).get("size_mib", 1024)
        for direction, key in (("PUT", "put_mb_per_s"), ("GET", "get_mb_per_s")):
            cv = c.get(key) if c else None
            mv = m.get(key) if m else None
            share = cv / limit if cv and limit else None
            out.append([f"S3 {direction} of {size} MiB ({mode}), MB/s", fmt(cv), fmt(mv),
                        fmt(limit) + " (AES-256-GCM, one core)" if limit else "not measured",
                        f"{cv / mv:.2f}×" if cv and mv else "—", f"{100 * share:.0f} %" if share else "—",
                        "≥ 30 % of one core's AES-GCM", verdict([None if share is None else share >= 0.3])])
    c = figures.get(("training-job-start", "citadel"))
    b = figures.get(("training-job-start", "bare-runc"))
    ratio = c["p50_ms"] / b["p50_ms"] if c and b else None
    out.append([f"CreateTrainingJob → container's first line, p50 ms ({(c or {}).get('jobs', '?')} jobs)",
                fmt(c and c["p50_ms"]), "—", fmt(b and b["p50_ms"]) + " (bare `runc run`)" if b else "not measured", "—",
                f"{ratio:.1f}×" if ratio else "—", "≤ 2× bare runc", verdict([None if ratio is None else ratio <= 2])])
    for conc in (16, 1):
        d = figures.get((f"invoke-endpoint-c{conc}", "direct"))
        c = figures.get((f"invoke-endpoint-c{conc}", "citadel"))
        share = c["calls_per_s"] / d["calls_per_s"] if c and d else None
        added50 = c["p50_ms"] - d["p50_ms"] if c and d else None
        added99 = c["p99_ms"] - d["p99_ms"] if c and d else None
        target = "p50 ≤ 1 ms, p99 ≤ 5 ms added, ≥ 80 % throughput" if conc == 16 else "(concurrency 1: for reference)"
        met = verdict([None if share is None else share >= 0.8, None if added50 is None else added50 <= 1,
                       None if added99 is None else added99 <= 5]) if conc == 16 else "—"
        out.append([f"InvokeEndpoint, concurrency {conc}, calls/s (added p50 / p99 ms)",
                    fmt(c and c["calls_per_s"]) + (f" (+{added50:.2f} / +{added99:.2f})" if added50 is not None else ""), "—",
                    fmt(d and d["calls_per_s"]) + " (the container's own socket)" if d else "not measured", "—",
                    f"{100 * share:.0f} %" if share else "—", target, met])
    return out


def table(figures, args):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    lines = [
        BEGIN,
        f"Generated by `scripts/bench-all.sh{' --quick' if args.form == 'quick' else ''}` on "
        f"{datetime.date.today().isoformat()} at {commit}{' (with uncommitted changes)' if dirty else ''}, "
        f"{os.cpu_count()} cores, load average {args.load_before or '?'} before and {args.load_after or '?'} after, "
        f"{args.minutes or '?'} minutes. Each figure is measured against its peer or limit in the same run; "
        "the sections below explain each and hold earlier runs.",
        "",
        "| figure | Citadel | peer: moto 5.2.1 | limit | Citadel / moto | Citadel / limit | target (DESIGN.md §11) | |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows(figures):
        lines.append("| " + " | ".join(r) + " |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def write(path, block):
    with open(path) as f:
        text = f.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + block + "\n" + tail
    else:
        first_section = text.find("\n## ")
        cut = first_section + 1 if first_section >= 0 else len(text)
        text = text[:cut] + "## The ratio table (issue: system quality)\n\n" + block + "\n" + text[cut:]
    with open(path, "w") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", required=True)
    p.add_argument("--write")
    p.add_argument("--load-before")
    p.add_argument("--load-after")
    p.add_argument("--minutes")
    p.add_argument("--form", default="full")
    args = p.parse_args()
    block = table(load(args.results), args)
    print(block)
    if args.write:
        write(args.write, block)


if __name__ == "__main__":
    main()
