"""`make bench`: every benchmark against a real stack, side by side with its reference; a table, JSON and a plot.

Each part runs as its own process (so one part's memory or threads cannot skew the next) and writes JSON;
this script gathers them into bench/results/latest.json (a flat object of named figures) and latest.png.
It exits 1 when a part fails or a figure could not be measured, and its last line says why.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.common import progress

RESULTS = Path(__file__).resolve().parent / "results"
REPO = RESULTS.parent.parent

# (json name, target description, check(figures) -> bool | None)
TARGETS = [
    ("deals_submit_rps", ">= 0.7 x baseline_insert_rps",
     lambda f: f["deals_submit_rps"] >= 0.7 * f["baseline_insert_rps"]),
    ("baseline_insert_rps", "reference", None),
    ("catalog_search_rps", ">= 0.6 x baseline_json_rps",
     lambda f: f["catalog_search_rps"] >= 0.6 * f["baseline_json_rps"]),
    ("catalog_search_uncached_rps", "reported (page cache misses)", None),
    ("catalog_304_rps", ">= 0.8 x baseline_json_rps",
     lambda f: f["catalog_304_rps"] >= 0.8 * f["baseline_json_rps"]),
    ("baseline_json_rps", "reference", None),
    ("pipeline_capacity_rps", "p99 <= 500 ms, no backlog growth", None),
    ("pipeline_capacity_ratio", ">= 0.25 (goal 0.3)", lambda f: f["pipeline_capacity_ratio"] >= 0.25),
    ("verdict_p50_ms", "<= 100 ms at capacity / 2", lambda f: f["verdict_p50_ms"] <= 100),
    ("verdict_p99_ms", "<= 500 ms at capacity / 2", lambda f: f["verdict_p99_ms"] <= 500),
    ("drain_rps", ">= pipeline_capacity_rps", lambda f: f["drain_rps"] >= f["pipeline_capacity_rps"]),
    ("match_p99_ms_1m", "< 10 ms", lambda f: f["match_p99_ms_1m"] < 10),
    ("match_index_mb_1m", "<= 400 MB", lambda f: f["match_index_mb_1m"] <= 400),
    ("match_precision", ">= 0.97", lambda f: f["match_precision"] >= 0.97),
    ("match_recall", ">= 0.97", lambda f: f["match_recall"] >= 0.97),
]

# which part measures each figure ("quality" is computed here, not in a part; the capacity ratio needs two parts)
PART_OF = {"deals_submit_rps": "deals", "baseline_insert_rps": "deals", "catalog_search_rps": "catalog",
           "catalog_search_uncached_rps": "catalog", "catalog_304_rps": "catalog", "baseline_json_rps": "catalog",
           "pipeline_capacity_rps": "pipeline", "pipeline_capacity_ratio": "pipeline",
           "verdict_p50_ms": "pipeline", "verdict_p99_ms": "pipeline", "drain_rps": "pipeline",
           "match_p99_ms_1m": "match", "match_index_mb_1m": "match",
           "match_precision": "quality", "match_recall": "quality"}

PARTS = {
    "catalog": ["bench/catalog_search.py"],
    "deals": ["bench/deals_submit.py"],
    "pipeline": ["-m", "bench.pipeline"],
    "match": ["bench/match_index.py"],
}


def run_part(name: str, extra: list[str], quick: bool) -> tuple[dict, str | None]:
    """The part's figures, and why it failed (None when it did not). Its output passes through as it comes;
    the last line it wrote to stderr is kept as the reason."""
    out = RESULTS / f"part-{name}.json"
    out.unlink(missing_ok=True)
    args = [sys.executable, *PARTS[name], "--json", str(out), *extra]
    progress(f"running {name}: {' '.join(args[1:])}")
    started = time.monotonic()
    last_line = ""
    with subprocess.Popen(args, cwd=REPO, stderr=subprocess.PIPE, text=True, errors="replace") as process:
        for line in process.stderr or ():
            sys.stderr.write(line)
            sys.stderr.flush()
            if line.strip():
                last_line = line.strip()
    if process.returncode != 0 or not out.exists():
        reason = f"{name} failed (exit {process.returncode}" + (f": {last_line})" if last_line else ")")
        progress(reason + "; its figures are missing from the table")
        return {}, reason
    progress(f"{name} done in {time.monotonic() - started:.0f}s")
    return json.loads(out.read_text()), None


def matching_quality() -> dict:
    from services.conflict.matching import evaluation

    data = REPO / "tests" / "data"
    records = [json.loads(line) for line in (data / "matching_registrations.jsonl").read_text("utf-8").splitlines()]
    truth = json.loads((data / "matching_truth.json").read_text("utf-8"))
    result = evaluation.evaluate(records, truth)
    return {"match_precision": round(result["precision"], 4), "match_recall": round(result["recall"], 4)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs, for a smoke test")
    parser.add_argument("--only", nargs="*", choices=list(PARTS) + ["quality"])
    parser.add_argument("--drain", type=int, default=None,
                        help="registrations for the pipeline's drain (default 100,000; --quick 2,000)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    quick_args = {
        "catalog": ["--listings", "1000", "--duration", "5"],
        "deals": ["--duration", "5"],
        "pipeline": ["--start", "20", "--factor", "1.6", "--step-s", "6", "--steady-s", "10", "--drain", "2000"],
        "match": ["--size", "100000", "--queries", "1000"],
    }
    figures: dict = {}
    latencies: list[float] = []
    ramp: list = []
    failures: list[str] = []
    selected = [name for name in [*PARTS, "quality"] if not args.only or name in args.only]
    for name in PARTS:
        if name not in selected:
            continue
        extra = quick_args[name] if args.quick else []
        if name == "pipeline" and args.drain is not None:
            extra = [*extra, "--drain", str(args.drain)]
        part, failure = run_part(name, extra, args.quick)
        if failure:
            failures.append(failure)
        latencies = part.pop("verdict_latencies_ms", latencies)
        ramp = part.pop("pipeline_ramp", ramp)
        figures.update({k: v for k, v in part.items() if isinstance(v, (int, float, str))})
    if figures.get("pipeline_capacity_rps") is not None and figures.get("deals_submit_rps"):
        # Both measured in this run, on this machine: the ratio is what compares across machines.
        figures["pipeline_capacity_ratio"] = round(figures["pipeline_capacity_rps"] / figures["deals_submit_rps"], 3)
    if ramp:
        (RESULTS / "latest-ramp.json").write_text(json.dumps(ramp, indent=1))
    if "quality" in selected:
        figures.update(matching_quality())
    figures["machine"] = f"{platform.node()} {platform.machine()} cores={os.cpu_count()}"
    figures["quick"] = bool(args.quick)
    (RESULTS / "latest.json").write_text(json.dumps(figures, indent=2, sort_keys=True))
    print_table(figures)
    try:
        plot(figures, latencies, ramp, RESULTS / "latest.png")
        print(f"\nwrote {RESULTS / 'latest.json'} and {RESULTS / 'latest.png'}")
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        failures.append(f"the plot failed ({type(exc).__name__}: {exc})")
        print(f"\nwrote {RESULTS / 'latest.json'}")
    return verdict(figures, selected, failures)


def verdict(figures: dict, selected: list[str], failures: list[str]) -> int:
    """The last line: why make bench failed, or that every figure was measured (and which targets were missed)."""
    unmeasured = [name for name, part in PART_OF.items() if part in selected and figures.get(name) is None
                  and not (name == "pipeline_capacity_ratio" and "deals" not in selected)]
    if unmeasured:
        failures.append(f"not measured: {', '.join(unmeasured)}")
    if failures:
        sys.stdout.flush()  # the reason is the very last line
        print(f"make bench FAILED: {'; '.join(failures)}", file=sys.stderr)
        return 1
    missed = []
    for name, target, check in TARGETS:
        if check is not None and PART_OF[name] in selected:
            try:
                if not check(figures):
                    missed.append(f"{name} {figures[name]} (target {target})")
            except (KeyError, TypeError):
                missed.append(f"{name} (its reference is missing)")
    measured = len([name for name in PART_OF if PART_OF[name] in selected])
    print(f"make bench: all {measured} figures measured; "
          + (f"targets missed: {'; '.join(missed)}" if missed else "every target met"))
    return 0


def print_table(figures: dict) -> None:
    print(f"\n{'figure':28s} {'value':>12s}  {'target':34s} result")
    print("-" * 88)
    for name, target, check in TARGETS:
        value = figures.get(name)
        if value is None:
            verdict = "NOT MEASURED"
            shown = "-"
        else:
            shown = f"{value:.1f}" if isinstance(value, float) and value >= 10 else str(value)
            try:
                verdict = "" if check is None else ("met" if check(figures) else "MISSED")
            except (KeyError, TypeError):
                verdict = "reference missing"
        ratio = ""
        if name in ("deals_submit_rps",) and figures.get("baseline_insert_rps"):
            ratio = f" (ratio {figures[name] / figures['baseline_insert_rps']:.2f})" if value else ""
        if name in ("catalog_search_rps", "catalog_search_uncached_rps", "catalog_304_rps") \
                and figures.get("baseline_json_rps") and value:
            ratio = f" (ratio {value / figures['baseline_json_rps']:.2f})"
        print(f"{name:28s} {shown:>12s}  {target:34s} {verdict}{ratio}")


def plot(figures: dict, latencies: list[float], ramp: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(19, 5))
    if ramp:  # the capacity ramp: each step's verdict p99 and its backlog at the end, against the rate
        rates = [step["rate"] for step in ramp]
        p99 = [step["p99_ms"] if step["p99_ms"] is not None else float("nan") for step in ramp]
        colours = ["#2e9d4f" if step["passed"] else "#d83b3b" for step in ramp]
        left.plot(rates, p99, color="#3b7dd8", zorder=1)
        left.scatter(rates, p99, c=colours, zorder=2, label="verdict p99 per step (green: passed)")
        left.axhline(500, color="grey", linestyle=":", label="p99 limit 500 ms")
        if figures.get("pipeline_capacity_rps"):
            left.axvline(figures["pipeline_capacity_rps"], color="green", linestyle="--",
                         label=f"capacity {figures['pipeline_capacity_rps']:.0f}/s")
        left.set_yscale("log")
        backlog = left.twinx()
        backlog.bar(rates, [step["backlog_end"] or 0 for step in ramp], width=[r * 0.05 for r in rates],
                    color="#999999", alpha=0.5)
        backlog.set_ylabel("backlog at the end of the step (registrations, grey bars)")
        left.legend(loc="upper left", fontsize=8)
    left.set_title("Capacity ramp: verdict p99 and backlog against the submission rate")
    left.set_xlabel("submitted registrations per second")
    left.set_ylabel("verdict p99 (ms, log)")
    if latencies:
        middle.hist(latencies, bins=60, color="#3b7dd8")
        for label, key, colour in (("p50", "verdict_p50_ms", "green"), ("p99", "verdict_p99_ms", "red")):
            if key in figures:
                middle.axvline(figures[key], color=colour, linestyle="--", label=f"{label} {figures[key]:.0f} ms")
        middle.axvline(500, color="grey", linestyle=":", label="p99 target 500 ms")
        middle.legend()
    middle.set_title(f"Submit-to-verdict latency at half capacity ({figures.get('verdict_rate_per_s', '?')}/s)")
    middle.set_xlabel("ms")
    middle.set_ylabel("registrations")
    names = ["baseline_insert_rps", "deals_submit_rps", "pipeline_capacity_rps", "drain_rps", "baseline_json_rps",
             "catalog_search_rps", "catalog_search_uncached_rps", "catalog_304_rps"]
    values = [figures.get(n, 0) or 0 for n in names]
    colours = ["#999999", "#3b7dd8", "#3b7dd8", "#3b7dd8", "#999999", "#3b7dd8", "#3b7dd8", "#3b7dd8"]
    right.barh(names, values, color=colours)
    for index, value in enumerate(values):
        right.text(value, index, f" {value:.0f}", va="center")
    right.set_title("Throughput against its baseline (per second)")
    fig.suptitle(f"Dealgate bench — {figures.get('machine', '')}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
