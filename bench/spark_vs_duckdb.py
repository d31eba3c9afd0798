"""Ingest and detections on Spark (analyze_spark.py's code, local[N]) against DuckDB
(analyze_ingest.py and the detectors) on the same generated corpus; prints a markdown table.

usage: spark_vs_duckdb.py EVENTS [CORES]

  EVENTS  background events in the corpus (bench/generate_corpus.py; reused when already written)
  CORES   Spark local[CORES] and the DuckDB threads, default 2

Needs Java 17 and requirements-spark.txt. The corpus and the two cases go to
$BENCH_DIR (default /tmp/cloudtrail-bench). Not part of `make test`.
"""
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def main(argv):
    if len(argv) not in (2, 3) or not argv[1].isdigit() or (len(argv) == 3 and not argv[2].isdigit()):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    events, cores = int(argv[1]), int(argv[2]) if len(argv) == 3 else 2
    work = Path(os.environ.get("BENCH_DIR", "/tmp/cloudtrail-bench"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["CLOUDTRAIL_OUTPUT_DIR"] = str(work / "reports")
    os.environ["CLOUDTRAIL_THREADS"] = str(cores)
    os.environ["CLOUDTRAIL_WORKERS"] = str(cores)
    os.environ["SPARK_MASTER"] = f"local[{cores}]"

    import generate_corpus
    corpus = work / f"corpus-{events}"
    generate_corpus.ensure_corpus(corpus, events, quiet=True)
    logs = corpus / "AWSLogs"

    import analyze_hunt
    import analyze_ingest
    import casedb
    db_path = work / f"duckdb-{events}.db"
    for leftover in (db_path, Path(str(db_path) + ".wal")):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    analyze_ingest.main(["analyze_ingest.py", str(db_path), str(logs)])
    duck_ingest = time.monotonic() - started
    started = time.monotonic()
    analyze_hunt.main(["analyze_hunt.py", str(db_path)])
    duck_detect = time.monotonic() - started
    con = casedb.connect(str(db_path))
    stored = con.sql("select count(*) from events").fetchall()[0][0]
    con.close()

    import analyze_spark
    folder = work / f"spark-{events}"
    shutil.rmtree(folder, ignore_errors=True)
    spark = analyze_spark.spark_session("cloudtrail-bench")
    spark.sparkContext.setLogLevel("ERROR")
    started = time.monotonic()
    counts = analyze_spark.ingest(spark, str(logs), str(folder), "bench")
    spark_ingest = time.monotonic() - started
    started = time.monotonic()
    analyze_spark.load_events(spark, str(folder))
    results, _ = analyze_spark.run_detections(spark)
    spark_detect = time.monotonic() - started
    ran = sum(1 for _, outcomes in results for o in outcomes if not o.error)
    spark.stop()

    print(f"| engine ({cores} cores, {stored:,} events) | ingest s | events/s | all detections s |")
    print("| --- | --- | --- | --- |")
    print(f"| DuckDB (analyze_ingest.py, analyze_hunt.py with reports) | {duck_ingest:.1f} | "
          f"{stored / duck_ingest:,.0f} | {duck_detect:.1f} |")
    print(f"| Spark local[{cores}] (analyze_spark.py; {ran} detections ran) | {spark_ingest:.1f} | "
          f"{counts['events'] / spark_ingest:,.0f} | {spark_detect:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
