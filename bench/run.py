#!/usr/bin/env python
"""ragbase benchmark harness (never part of the pytest suite).

    .venv/bin/python bench/run.py [--quick] [--sections drain vectors quality latency ingestion rechunk drive load] [--sizes N ...]
                                  [--drive-docs N] [--dataset DIR]

Runs on its own throw-away embedded PostgreSQL and qdrant-edge store in a temp dir (env set before
django.setup(), see bench/outbox_drain.py). Prints one table and writes bench/results/<timestamp>.json
and .csv. --quick: 10 nfcorpus queries over their 330 judged documents and 10k synthetic chunks.
"""
import argparse
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from django.contrib.auth import get_user_model  # noqa: E402
from environment import (  # noqa: E402
    SYNC_ENV,
    add_keep_files_option,
    scratch_folder,
    serving_environment,
    setup_django,
)
from table import RESULTS, print_and_save, record, rows  # noqa: E402

# The development retrieval set, beside the repository (never shipped); --dataset names another.
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "nfcorpus"


def plot_latency(rows, path):
    """p50 latency vs corpus size per layer (API, service, the floor, engine alone, pgvector); dashed with
    stars: the same layers measured again right after indexing (`optimize_index`)."""
    import matplotlib  # only when plotting: a large import the other sections never need

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    series: dict[str, dict[int, float]] = {}
    for section, what, metric, value, _ in rows:
        match = re.fullmatch(r"(.+) @(\d+)", what)
        if section == "latency" and metric == "p50" and match:
            series.setdefault(match[1], {})[int(match[2])] = value
    if not series:
        return
    # The layers a reader compares; the other timed pieces stay in the table.
    colors = {"API hybrid": "tab:blue", "search service hybrid": "tab:orange",
              "floor: query embedding, then engine hybrid": "tab:purple",
              "engine floor hybrid": "tab:green", "pgvector hybrid": "tab:red"}
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for name, points in sorted(series.items()):
        sizes = sorted(points)
        base = name.removesuffix(", after optimize_index")
        if base not in colors:
            continue
        optimized = base != name
        ax.plot(sizes, [points[n] for n in sizes], color=colors[base],
                marker="*" if optimized else "o", markersize=12 if optimized else 6,
                linestyle="--" if optimized else "-",
                label=f"{base}{' (all indexed)' if optimized else '' if 'pgvector' in base else ' (newest not indexed)'}")
    ax.set_xlabel("chunks in the corpus (one user)")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title("ragbase search latency vs corpus size (embedded mode, 2 cores)")
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda chunks, _: f"{chunks / 1000:g}k"))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")


def guarded(section, run):
    """A failing section is recorded in the table and the others still run."""
    print(f"[bench] {time.strftime('%H:%M:%S')} {section} ...", file=sys.stderr, flush=True)
    try:
        run()
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
        traceback.print_exc()
        record(section, "FAILED", "error", f"{type(error).__name__}: {error}"[:120])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plot", metavar="RESULTS_JSON", help="only redraw the plot from a results file")
    parser.add_argument("--sections", nargs="+", default=[
        "drain", "vectors", "quality", "latency", "ingestion", "rechunk", "drive", "load"])
    parser.add_argument("--drive-docs", type=int, help="Google Docs in the drive section's fake Drive (default 3000; --quick 300)")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                        help="a BEIR folder for the quality, ingestion and drive sections (default: ../shared/datasets/nfcorpus)")
    parser.add_argument("--sizes", type=int, nargs="+", help="latency corpus sizes (default 10k 50k 100k; --quick 10k)")
    parser.add_argument("--load-seconds", type=float, help="seconds of each load measurement (default 20; --quick 5)")
    parser.add_argument("--soak-requests", type=int, help="requests of the load section's soak (default 100000; --quick 5000)")
    parser.add_argument("--load-threads", type=int, nargs="*", default=[],
                        help="also measure the production server with each of these GUNICORN_THREADS (e.g. 1 2 4 8)")
    add_keep_files_option(parser)
    args = parser.parse_args()
    if args.plot:
        plot_latency(json.loads(Path(args.plot).read_text())["rows"], RESULTS / "latency_vs_size.png")
        return
    args.sizes = args.sizes or ([10_000] if args.quick else [10_000, 50_000, 100_000])
    args.samples = 50 if args.quick else 200
    args.ingest_docs = 60 if args.quick else 300
    args.load_seconds = args.load_seconds or (5 if args.quick else 20)
    args.soak_requests = args.soak_requests if args.soak_requests is not None else (5_000 if args.quick else 100_000)
    args.drive_docs = args.drive_docs or (300 if args.quick else 3000)
    if {"quality", "ingestion", "rechunk", "drive"} & set(args.sections) and not (args.dataset / "corpus.jsonl").exists():
        parser.error(f"{args.dataset} is not a BEIR dataset folder (corpus.jsonl missing); name one with --dataset")
    tmp = scratch_folder("ragbase-bench-", keep=args.keep_files)
    serving_environment()
    for name, value in SYNC_ENV.items():  # the drive section's workers read the same settings
        os.environ.setdefault(name, value)
    setup_django(tmp)
    import sections  # the project's modules, which need Django set up

    embedder = sections.get_embedder()
    embedder.embed_query("warm up")
    users = get_user_model().objects
    started = time.perf_counter()
    if "drain" in args.sections:
        guarded("drain", lambda: sections.section_drain_and_storage(args))
    if "vectors" in args.sections:  # before the sections that leave chunks behind (it checks against Postgres)
        import vectors

        guarded("vectors", lambda: vectors.section(record, chunks=10_000 if args.quick else 50_000))
    if "quality" in args.sections:
        guarded("quality", lambda: sections.section_quality(args, users.create_user("quality")))
    if "latency" in args.sections:
        guarded("latency", lambda: sections.section_latency(args, users.create_user("latency"), embedder))
    if "ingestion" in args.sections:
        guarded("ingestion", lambda: sections.section_ingestion(args, users.create_user("ingestion"), embedder))
    if "rechunk" in args.sections:
        guarded("rechunk", lambda: sections.section_rechunk(args, users.create_user("rechunk"), embedder))
    if "drive" in args.sections:
        guarded("drive", lambda: sections.section_drive(args))
    if "load" in args.sections:  # last: it hands the embedded store to the server process
        guarded("load", lambda: sections.section_load(args))
    print_and_save(quick=args.quick, seconds=time.perf_counter() - started)
    guarded("plot", lambda: plot_latency(rows, RESULTS / "latency_vs_size.png"))


if __name__ == "__main__":
    main()
