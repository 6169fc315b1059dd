"""`streamtop status --json` at 20,000 and 100,000 streams (issue 29), before and after, side by side.

For each size N (`--sizes`, default 20000,100000; streams of 10 entries, 2 groups x 2 consumers, 4
pending per group, as bench/scale.py makes them, on a private Valkey 9.1), each code runs
`streamtop status --json` in a child process, its output to a temporary file: wall time, peak RSS
of that process alone (os.wait4's ru_maxrss; this process stays small, since a child starts
with the RSS of the process it was forked from), CPU time (user + sys) and the document's size. The two
documents are then compared: the same fields in the same order, the same streams in the same order
(the values differ only by the time between the runs: idle times, verdicts that depend on them).
`before` is a git ref exported with `git archive` (default `main`), `after` this checkout. The load
average is printed with each row (2 shared cores: wall times move with it, memory does not).

    python bench/status_scale.py [--sizes 20000,100000] [--before main]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import before_and_after, embedded_server, grow_to_sizes, sync_client


def run_status(code: str, url: str, n: int, out: str) -> dict:
    script = f"import sys; sys.path.insert(0, {code!r}); from streamtop.cli import main; sys.exit(main())"
    argv = [sys.executable, "-c", script, "status", "--json", "--url", url]
    argv += ["--max-streams", str(n + 100), "bench:s:*"]
    load = Path("/proc/loadavg").read_text().split()[0]
    t0 = time.monotonic()
    with open(out, "wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    return {
        "n": n,
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "bytes": os.path.getsize(out),
        "exit": os.waitstatus_to_exitcode(status),
        "load_before": load,
        "load_after": Path("/proc/loadavg").read_text().split()[0],
        "stderr": err.strip()[-200:],
    }


def paths(value: object, prefix: str = "") -> list[str]:
    """Every field's path, in order (list items as [])."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in [f"{prefix}.{k}", *paths(v, f"{prefix}.{k}")]]
    if isinstance(value, list) and value:
        return paths(value[0], prefix + "[]")
    return []


def same_shape(a_path: str, b_path: str) -> str:
    """'yes' when both documents have the same fields in the same order and the same streams in
    the same order; else what differs."""
    with open(a_path, encoding="utf-8") as fa, open(b_path, encoding="utf-8") as fb:
        a, b = json.load(fa), json.load(fb)
    if paths(a) != paths(b):
        return "fields differ"
    if [s["key"] for s in a["streams"]] != [s["key"] for s in b["streams"]]:
        return "stream order differs"
    if a["discovery"]["keys_found"] != b["discovery"]["keys_found"]:
        return "keys_found differs"
    return "yes"


HEAD = ("streams", "code", "wall", "CPU", "peak RSS", "document", "exit", "load average", "same shape")


def main() -> None:
    if sys.argv[1:2] == ["--same-shape"]:
        print(same_shape(sys.argv[2], sys.argv[3]))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="20000,100000")
    p.add_argument("--before", default="main", help="git ref of the code to compare with")
    p.add_argument("--after", default="", help="git ref for `after` (default: this checkout as it is)")
    args = p.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows: list[dict] = []
    with (
        before_and_after(args.before, args.after) as codes,
        tempfile.TemporaryDirectory(prefix="streamtop-status-out-") as outdir,
        embedded_server() as srv,
    ):
        r = sync_client(srv)
        for n in grow_to_sizes(r, sizes):
            outs = []
            for name, code in codes:
                out = os.path.join(outdir, f"{n}-{len(outs)}.json")
                got = run_status(code, srv.url, n, out) | {"code": name}
                outs.append(out)
                print(json.dumps(got), flush=True)
                rows.append(got)
            # in a child: loading two documents of hundreds of MB here would make this process
            # large, and a child forked from it then starts with its RSS (ru_maxrss counts it)
            check = [sys.executable, str(Path(__file__).resolve()), "--same-shape", *outs]
            rows[-1]["same"] = subprocess.run(check, capture_output=True, text=True).stdout.strip()
            for out in outs:
                os.unlink(out)
        r.close()
    print()
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "---|" * len(HEAD))
    for d in rows:
        cells = [
            f"{d['n']:,}",
            d["code"],
            f"{d['wall_s']} s",
            f"{d['cpu_s']} s",
            f"{d['peak_rss_mb']:,} MB",
            f"{d['bytes'] / 1e6:.1f} MB",
            str(d["exit"]),
            f"{d['load_before']} -> {d['load_after']}",
            d.get("same", ""),
        ]
        print("| " + " | ".join(cells) + " |")
    print(json.dumps({"status_scale": rows}))


if __name__ == "__main__":
    main()
