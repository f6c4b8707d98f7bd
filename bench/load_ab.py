#!/usr/bin/env python
"""The production server of the working tree against another revision's, pair by pair (never part
of the pytest suite).

    .venv/bin/python bench/load_ab.py [--baseline REV] [--pairs 6] [--chunks 10000] [--seconds 12]
    .venv/bin/python bench/load_ab.py --b-env GUNICORN_THREADS=8    # one setting, same code

A change worth a few per cent cannot be seen between two runs of `run.py --sections load` here: the
machine's speed drifts by more than that within minutes. So both servers run in one run over one
store: A is REV (default HEAD, checked out in a temporary git worktree), B the working tree. Each
pair starts A and B one after the other (the order alternating), each measured the same way: one
client's API p50, then req/s and p99 at 20 token clients. Prints each pair's B/A ratios and their
medians; writes bench/results/load-ab-<timestamp>.json and .csv. Both share one database: against
a baseline without the working tree's migrations, A runs on the newer schema once B has started. With
--b-env, B's server also gets those environment variables (settings), so a setting is measured the
same way against the defaults.
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from environment import start_serving_run  # noqa: E402
from table import print_and_save, record  # noqa: E402


def baseline_checkout(revision: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(where), revision],
                   check=True)
    return where


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD", help="the revision B is compared with (default HEAD)")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=12, help="seconds of the 20-client measurement")
    parser.add_argument("--b-env", nargs="+", default=[], metavar="NAME=VALUE",
                        help="environment of B's server only, e.g. GUNICORN_THREADS=8")
    args, tmp = start_serving_run(parser, "ragbase-load-ab-")
    import load  # the project's modules, which need Django set up
    import sections
    from django.contrib.auth import get_user_model
    from django.db import connections
    from knox.models import AuthToken

    from chunks.vector_index import ensure_index_ready, reset_vector_index

    started = time.perf_counter()
    roots = {"A": baseline_checkout(args.baseline, tmp / "baseline"), "B": ROOT}
    environments = {"A": {}, "B": dict(assignment.split("=", 1) for assignment in args.b_env)}
    b_label = " ".join(["working tree", *args.b_env])
    try:
        user = get_user_model().objects.create_user("load", password=load.PASSWORD)
        auth = {"headers": {"Authorization": f"Token {AuthToken.objects.create(user=user)[1]}"}}
        sections.add_load_chunks(user, args.chunks)
        ensure_index_ready().optimize()  # as serve does at start: both servers search an indexed store
        reset_vector_index()
        connections.close_all()
        queries = sections.load_queries()
        ratios = {"req/s at 20 clients": [], "p99 at 20 clients": [], "API p50 at 1 client": []}
        for pair in range(args.pairs):
            measured = {}
            for name in ("A", "B") if pair % 2 == 0 else ("B", "A"):
                server = load.Server("gunicorn", tmp / f"serve-{name}-{pair}.log", root=roots[name],
                                     **environments[name])
                try:
                    url = server.url + "/api/search/"
                    load.hammer(url=url, auth=auth, queries=queries, clients=20, seconds=3)  # warm up
                    one = load.hammer(url=url, auth=auth, queries=queries, clients=1,
                                      seconds=args.seconds / 2)
                    many = load.hammer(url=url, auth=auth, queries=queries, clients=20, seconds=args.seconds)
                finally:
                    server.stop()
                measured[name] = {"req/s at 20 clients": many["rps"], "p99 at 20 clients": many["p99"],
                                  "API p50 at 1 client": one["p50"]}
                record("load-ab", f"pair {pair + 1}, {name}", "req/s", many["rps"], "req/s")
                record("load-ab", f"pair {pair + 1}, {name}", "p99", many["p99"], "ms")
                record("load-ab", f"pair {pair + 1}, {name}", "API p50", one["p50"], "ms")
                record("load-ab", f"pair {pair + 1}, {name}", "errors", many["errors"] + one["errors"])
            for metric, values in ratios.items():
                values.append(measured["B"][metric] / measured["A"][metric])
                record("load-ab", f"pair {pair + 1}", f"B/A {metric}", values[-1], "x")
        for metric, values in ratios.items():
            record("load-ab", f"median of {args.pairs} pairs (B: {b_label}, A: {args.baseline})",
                   f"B/A {metric}", statistics.median(values), "x")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(roots["A"])],
                       check=False)
    print_and_save(prefix="load-ab-", seconds=time.perf_counter() - started, baseline=args.baseline,
                   chunks=args.chunks, b_env=args.b_env)


if __name__ == "__main__":
    main()
