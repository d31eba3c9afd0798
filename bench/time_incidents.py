"""Times the identity lineage and the incidents on a case database the hunt has run on.

usage: time_incidents.py DATABASE [RUNS]

  DATABASE  a case database with findings (run analyze_hunt.py on it first)
  RUNS      how many times to build each, default 3; the fastest run is reported

Prints, for lineage.build and incidents.build, the wall and CPU seconds of the fastest run,
and the keys and incidents built. Compare with the hunt's own time on the same database to
see what they add (the target: at most 25% of the hunt's time).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import casedb  # noqa: E402
import common  # noqa: E402
import incidents  # noqa: E402
import lineage  # noqa: E402


def measure(function, con, runs):
    best = None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        made, _ = function(con)
        spent = (time.perf_counter() - wall, time.process_time() - cpu, made)
        best = spent if best is None or spent[0] < best[0] else best
    return best


def run(argv):
    if not 2 <= len(argv) <= 3:
        raise common.UsageError("expected DATABASE [RUNS]")
    runs = int(argv[2]) if len(argv) == 3 and argv[2].isdigit() else 3
    con = casedb.open_case(argv[1])
    try:
        con.execute("set enable_progress_bar = false")
        events = casedb.scalar(con, "select count(*) from events")
        findings = casedb.scalar(con, "select count(*) from findings")
        wall, cpu, keys = measure(lineage.build, con, runs)
        print(f"{events:,} events, {findings:,} findings")
        print(f"lineage.build:   {wall:6.2f} s wall, {cpu:6.2f} s CPU (this process), {keys:,} keys")
        wall2, cpu2, made = measure(incidents.build, con, runs)
        print(f"incidents.build: {wall2:6.2f} s wall, {cpu2:6.2f} s CPU (this process), {made:,} incidents")
        print(f"together:        {wall + wall2:6.2f} s wall")
    finally:
        con.close()
    return common.EXIT_OK


if __name__ == "__main__":
    sys.exit(common.run_cli(__doc__, sys.argv, run))
