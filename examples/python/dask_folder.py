"""Analyse a folder on a Dask cluster and gather `rns batch`'s tables.

    python3 examples/python/dask_folder.py FOLDER [--workers N] [--scheduler ADDRESS]

Without --scheduler it starts a LocalCluster of N worker processes on this
machine; with it, the tasks go to that cluster (every worker needs the
package installed and the folder at the same path). The tables are the
ones `rns batch FOLDER` writes, in the same order; here they are saved as
CSV beside a short summary.
"""

import argparse
import pathlib

from dask.distributed import Client, LocalCluster

from rns_analyzer.dask import analyze_folder


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=pathlib.Path)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scheduler", help="address of a running Dask scheduler")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("dask-tables"))
    args = p.parse_args()

    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
    try:
        result = analyze_folder(args.folder, client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    args.out.mkdir(parents=True, exist_ok=True)
    for name, df in result.tables.items():
        df.to_csv(args.out / f"{name}.csv", index=False)
    trains = result.tables["trains"]
    print(f"{len(result.patterns)} recordings analysed, {len(result.errors)} failed")
    for rel, pattern in result.patterns.items():
        print(f"  {rel}: {pattern}")
    for rel, message, code in result.errors:
        print(f"  {rel}: error (exit code {code}): {message}")
    if not trains.empty:
        print(trains.groupby("role")["decrement_pct"].describe())
    print(f"tables written to {args.out}/")


if __name__ == "__main__":
    main()
