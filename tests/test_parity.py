"""Parity: the same detections give the same findings whatever the engine and the row order.

(a) No Java: every rule on DuckDB over a shuffled Parquet export of the case equals the case
    database's findings (same triggering event, same set of event ids, same severity).
(b) Spark local[2] (marked `spark`): the public data ingested by analyze_spark.py holds the same
    events as analyze_ingest.py's case (count and ids), and every detection compiled to Spark SQL
    gives the same findings as DuckDB. A detection that errors on one engine fails its test;
    the detections in rule_catalogue.LOCAL_ONLY are skipped with their reason (README, Scaling out).
"""
import shutil

import duckdb
import pytest

import analyze_export
import analyze_hunt
import casedb
import detections
import lineage
import rule_catalogue
from conftest import ingest, needs_shared_data, shared_log_trees

AREAS = rule_catalogue.areas()
RULES = [(area.name, rule.detection.id) for area in AREAS for rule in area.rules]


def finding_keys(rows):
    return sorted((row["event_id"], tuple(sorted(row["event_ids"] or [row["event_id"]])), row["severity"])
                  for row in rows)


def SPARK_TREES():
    """The small corpus for Spark (each Spark query costs a second or more whatever its size):
    the Stratus Red Team and Panther trees, 58 files."""
    return [tree for tree in shared_log_trees() if "otrf" not in tree.parts]


@pytest.fixture(scope="module")
def spark_duckdb_case(tmp_path_factory):
    """The Spark corpus ingested and hunted on DuckDB, for comparison."""
    folder = tmp_path_factory.mktemp("parity-spark-duckdb")
    db_path = folder / "case.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLOUDTRAIL_OUTPUT_DIR", str(folder / "reports"))
        assert ingest(db_path, *SPARK_TREES()) == 0
        assert analyze_hunt.main(["analyze_hunt.py", str(db_path)]) in (0, 1)
    return db_path, _findings_by_detection(db_path)


def _findings_by_detection(db_path):
    con = casedb.connect(str(db_path))
    try:
        rows = con.sql("select detection_id, event_id, event_ids, severity from findings").fetchall()
    finally:
        con.close()
    found = {}
    for detection_id, event_id, event_ids, severity in rows:
        found.setdefault(detection_id, []).append({"event_id": event_id, "event_ids": event_ids, "severity": severity})
    return found


@pytest.fixture(scope="module")
def public_case(tmp_path_factory):
    """The public S3-layout trees ingested and hunted on DuckDB: (folder, db path, findings by detection)."""
    folder = tmp_path_factory.mktemp("parity")
    db_path = folder / "case.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLOUDTRAIL_OUTPUT_DIR", str(folder / "reports"))
        assert ingest(db_path, *shared_log_trees()) == 0
        assert analyze_hunt.main(["analyze_hunt.py", str(db_path)]) in (0, 1)
    con = casedb.connect(str(db_path))
    try:
        rows = con.sql("select detection_id, event_id, event_ids, severity from findings").fetchall()
    finally:
        con.close()
    found = {}
    for detection_id, event_id, event_ids, severity in rows:
        found.setdefault(detection_id, []).append({"event_id": event_id, "event_ids": event_ids, "severity": severity})
    return folder, db_path, found


def run_on_duckdb(con, area):
    """{detection id: finding rows or an error text} for one area, through the engine's own runner."""
    if area.setup_sql.strip():
        con.execute(area.setup_sql)
    for name, value in area.variables.items():
        con.execute(f"set variable {name} = ?" + ("::varchar[]" if isinstance(value, list) else ""), [value])
    outcomes = detections.run_detections(con, [rule.detection for rule in area.rules])
    return {o.detection.id: (o.error or None) or o.findings for o in outcomes}


@pytest.fixture(scope="module")
def shuffled_parquet_results(public_case, tmp_path_factory):
    folder, db_path, _ = public_case
    export = folder / "export"
    assert analyze_export.main(["analyze_export.py", str(db_path), str(export)]) == 0
    shuffled = tmp_path_factory.mktemp("shuffled") / "shuffled.db"
    con = casedb.connect(str(shuffled), create=True)
    try:
        casedb.ensure_schema(con)
        # A different physical order than the case's: order-dependent rules would show it.
        con.execute(f"""insert into events by name
                        select * exclude (event_date)
                        from read_parquet('{export}/events/*/*.parquet', hive_partitioning = true)
                        order by md5(coalesce(event_id, '') || coalesce(source_file, ''))""")
        con.execute("checkpoint")
        casedb.set_window(con, None, None)
        lineage.build(con)      # the identity rules read it; the hunt builds it before the areas
        results = {}
        for area in AREAS:
            results |= run_on_duckdb(con, area)
        return results
    finally:
        con.close()


@needs_shared_data
@pytest.mark.parametrize("area_name, detection_id", RULES, ids=[d for _, d in RULES])
def test_rule_on_shuffled_parquet_equals_the_case(public_case, shuffled_parquet_results, area_name, detection_id):
    _, _, found = public_case
    got = shuffled_parquet_results[detection_id]
    assert not isinstance(got, str), got
    assert finding_keys(got) == finding_keys(found.get(detection_id, []))


# ---------------------------------------------------------------- Spark local[2]

def _java_available():
    return shutil.which("java") is not None


needs_spark = pytest.mark.skipif(not _java_available(), reason="Java is not installed (Spark needs Java 17 or later)")


@pytest.fixture(scope="session")
def spark_session():
    pytest.importorskip("pyspark", reason="pip install -r requirements-spark.txt (make test does)")
    import os

    import analyze_spark
    os.environ.setdefault("SPARK_MASTER", "local[2]")
    # The driver holds every query's plan: 1 GB (the default) ran out of heap after some 700
    # stages. A small corpus: few shuffle partitions, no UI and no plans kept for it, and no
    # whole-stage code generation (compiling Java for each of some 110 queries costs more than
    # it saves on a few thousand rows).
    # Broadcast joins are off: Spark's size estimates for the persisted events (whole records)
    # made it broadcast tables that did not fit.
    os.environ.setdefault("SPARK_DRIVER_MEMORY", "4g")
    spark = analyze_spark.spark_session("cloudtrail-toolkit-tests", {
        "spark.ui.enabled": "false", "spark.sql.ui.retainedExecutions": "5",
        "spark.sql.shuffle.partitions": "2", "spark.sql.codegen.wholeStage": "false",
        "spark.sql.autoBroadcastJoinThreshold": "-1"})
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def spark_case(spark_session, tmp_path_factory):
    """The same trees ingested by analyze_spark.ingest, and every detection run on Spark."""
    import analyze_spark
    folder = tmp_path_factory.mktemp("spark-case")
    source = tmp_path_factory.mktemp("spark-input")
    # One input folder holding the trees (links, so nothing is copied).
    for index, tree in enumerate(SPARK_TREES()):
        (source / f"tree{index}").symlink_to(tree, target_is_directory=True)
    counts = analyze_spark.ingest(spark_session, str(source), str(folder), "parity")
    events = analyze_spark.load_events(spark_session, str(folder))
    results, local_only = analyze_spark.run_detections(spark_session)
    outcomes = {o.detection.id: o for _, area_outcomes in results for o in area_outcomes}
    ids = sorted(row[0] or "" for row in events.select("event_id").collect())
    return counts, ids, outcomes, dict(local_only)


@pytest.mark.spark
@needs_shared_data
@needs_spark
def test_spark_ingest_keeps_the_same_events(spark_duckdb_case, spark_case):
    db_path, _ = spark_duckdb_case
    counts, spark_ids, _, _ = spark_case
    con = casedb.connect(str(db_path))
    try:
        duck_ids = sorted(row[0] or "" for row in con.sql("select event_id from events").fetchall())
    finally:
        con.close()
    assert len(spark_ids) == len(duck_ids) == counts["events"]
    assert spark_ids == duck_ids


@pytest.mark.spark
@needs_shared_data
@needs_spark
@pytest.mark.parametrize("area_name, detection_id", RULES, ids=[d for _, d in RULES])
def test_detection_on_spark_equals_duckdb(spark_duckdb_case, spark_case, area_name, detection_id):
    _, found = spark_duckdb_case
    _, _, outcomes, local_only = spark_case
    if detection_id in rule_catalogue.LOCAL_ONLY:
        assert detection_id in local_only
        pytest.skip(f"local-only: {rule_catalogue.LOCAL_ONLY[detection_id]}")
    outcome = outcomes[detection_id]
    assert not outcome.error, outcome.error
    assert finding_keys(outcome.findings) == finding_keys(found.get(detection_id, []))


@needs_shared_data
def test_no_event_of_the_public_data_gives_two_high_or_critical_lines(public_case):
    """Issue 12, one finding per fact: an event behind several detections is one line of the
    hunt naming every reason, never two high or critical lines."""
    import incidents
    _, db_path, found = public_case
    con = casedb.connect(str(db_path))
    try:
        facts = incidents.facts(con)
    finally:
        con.close()
    lines_by_event = {}
    for fact in facts:
        if fact["severity"] in ("high", "critical"):
            for event_id in fact["event_ids"]:
                lines_by_event[event_id] = lines_by_event.get(event_id, 0) + 1
    assert lines_by_event and max(lines_by_event.values()) == 1
    # ... while some of those events are behind two or more detections (so the test means something)
    by_event = {}
    for detection_id, rows in found.items():
        for row in rows:
            by_event.setdefault(row["event_id"], set()).add(detection_id)
    assert any(len(ids) > 1 for event_id, ids in by_event.items() if event_id in lines_by_event)
