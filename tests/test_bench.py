"""The benchmark harness runs end to end on a tiny corpus, so it cannot rot between full runs.

The full benchmark (`make bench`, 2M events) is too slow for the test suite; this runs
every measurement on about a thousand events in a tmp folder and checks the table.
"""
import os
import subprocess
import sys

from conftest import REPO

RUNNER = REPO / "bench" / "run_bench.py"
ROWS = ("| 1a |", "| 1b |", "| 1c |", "| 1d |", "| 2a |", "| 2b |", "| 3 |", "| 3b |", "| 1a-large |", "| 3-large |",
        "| 1a-real |", "| 3-real |",
        "| 4 | analyze_", "| 4 | all detectors")


def run_bench(tmp_path, *arguments):
    env = dict(os.environ, BENCH_DIR=str(tmp_path / "bench"))
    return subprocess.run([sys.executable, str(RUNNER), *arguments], capture_output=True, text=True,
                          env=env, timeout=900)


def test_tiny_run_prints_every_row_and_writes_the_table(tmp_path):
    result = run_bench(tmp_path, "1000")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for row in ROWS:
        assert row in out, f"missing row {row}\n{out}"
    for section in ("Ratios, measured in this run:", "| target | measured | verdict |", "- machine: ",
                    "Each corpus shape, the ingest against DuckDB", "| large |", "| real |",
                    "- versions: Python "):
        assert section in out
    ingest_rows = [line for line in out.splitlines() if line.startswith(("| 1a |", "| 1b |", "| 1c |", "| 1d |"))]
    assert all("**not completed**" not in line for line in ingest_rows), "\n".join(ingest_rows)
    # 1c loads new events and recognises the repeats and the copied file.
    row_1c = next(line for line in ingest_rows if line.startswith("| 1c |"))
    assert " 0 new" not in row_1c and " 0 already stored" not in row_1c
    tables = list((tmp_path / "bench" / "results").glob("bench-*.md"))
    assert len(tables) == 1 and "| 1a |" in tables[0].read_text(encoding="utf-8")
    # The scratch databases (gigabytes at full size) are removed.
    assert not (tmp_path / "bench" / "results" / "work-1000").exists()


def test_bad_arguments_give_usage_and_exit_2(tmp_path):
    for arguments in (["many"], ["0"], ["10", "20"]):
        result = run_bench(tmp_path, *arguments)
        assert result.returncode == 2
        assert "usage: run_bench.py" in result.stderr
        assert "Traceback" not in result.stderr
