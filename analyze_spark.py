"""Ingest a CloudTrail tree and run every detection on Apache Spark, for cases too large for one
machine. Same columns, event ids, deduplication and detections as analyze_ingest.py and the
detector scripts; the case is Parquet instead of a DuckDB file.

usage: analyze_spark.py INPUT FOLDER

  INPUT   a CloudTrail log tree: a local folder, or an s3a:// (s3:// on EMR) URI
  FOLDER  where the case goes (local folder or URI); it must not hold a case already:
            FOLDER/events/event_date=YYYY-MM-DD/*.parquet   every event once, sorted by account,
                                                           region and time within each day
            FOLDER/ingested_files/   one row per input file and what became of it
            FOLDER/findings/         what the detections found (the findings table's columns)
          and the markdown report spark_report-YY-MM-DD-HH-MM.md in FOLDER/reports/ (or in
          $CLOUDTRAIL_OUTPUT_DIR; in reports/ here when FOLDER is a URI)

Spark settings come from the usual Spark configuration: run it with spark-submit (--master,
--executor-memory, --conf ...), or set PYSPARK_SUBMIT_ARGS / SPARK_CONF_DIR; with none, it runs
on local[*]. The executors need the toolkit's Python packages (pip install -r requirements.txt
on each node, or a packed virtual environment passed with --archives) and this folder's modules
(--py-files). Thresholds are the detectors' environment variables, read on the driver.

examples:
  analyze_spark.py logs/ case-parquet/
  spark-submit --master yarn --py-files toolkit.zip analyze_spark.py s3://trail-bucket/AWSLogs/ s3://cases/acme/
"""
import datetime as dt
import os
import re
import sys
import time
import uuid
from pathlib import Path

import common
from common import ToolError, UsageError

_DELIVERY_TIME = re.compile(r"_(\d{8}T\d{4,6}Z)")
DEDUP_KEY = ("event_id", "recipient_account_id", "event_time", "event_name", "source_ip", "principal_id")


# ---------------------------------------------------------------- the Spark session

def spark_session(app="cloudtrail-toolkit", settings=None):
    """The session from the usual Spark configuration; settings the toolkit's SQL relies on.
    settings: more Spark settings for a session this call starts (the tests' small local one)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ToolError("pyspark is not installed - pip install -r requirements-spark.txt "
                        "(Java 17 or later must be on the PATH)") from None
    builder = SparkSession.builder.appName(app)
    if not os.environ.get("PYSPARK_SUBMIT_ARGS") and "spark.master" not in os.environ.get("SPARK_CONF", ""):
        # spark-submit sets the master itself; a plain `python analyze_spark.py` runs locally.
        builder = builder.config("spark.master", os.environ.get("SPARK_MASTER", "local[*]"))
        # Local workers use this interpreter (its packages), not whatever python3 is first on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Spark hands timestamps to Python in the process's time zone; the toolkit works in UTC.
    os.environ["TZ"] = "UTC"
    time.tzset()
    for key, value in (settings or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    conf = spark.conf
    conf.set("spark.sql.session.timeZone", "UTC")
    # Partition folder names are typed by the toolkit, never guessed (000000000000 is not 0).
    conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    # DuckDB's semantics: a bad cast or an index out of range gives NULL, not an error.
    conf.set("spark.sql.ansi.enabled", "false")
    conf.set("spark.sql.legacy.sizeOfNull", "false")
    return spark


# ---------------------------------------------------------------- ingest

def _local_path(uri):
    """A local file's path as the local ingest stores it (Spark lists file: URIs, %-encoded)."""
    from urllib.parse import unquote
    return unquote(uri[5:]) if uri.startswith("file:") else uri


def _delivery_key(path):
    match = _DELIVERY_TIME.search(path.rsplit("/", 1)[-1])
    return ("0" + match.group(1) if match else "1") + "\x00" + path


def _event_schema():
    import pyarrow as pa
    import casedb
    con_types = {"varchar": pa.string(), "timestamptz": pa.timestamp("us", tz="UTC"), "boolean": pa.bool_(),
                 "bigint": pa.int64()}
    fields = []
    for line in casedb.SCHEMA_SQL.split("create table if not exists events (")[1].split(");")[0].splitlines():
        words = line.strip().rstrip(",").split()
        if len(words) >= 2 and words[0] != "load_id":
            fields.append(pa.field(words[0], con_types.get(words[1], pa.string())))
    return fields


def parse_partition(batches):
    """mapInArrow: (path, modificationTime, length, content) of log files -> event rows plus one
    file row per input file (is_file true), through the local ingest's own reading and
    extraction (logfiles.py and casedb.EXTRACT_SQL), so both ingests give the same columns."""
    import hashlib

    import pyarrow as pa

    import logfiles

    logfiles.init_worker(in_pool=False)
    event_fields = _event_schema()
    schema = output_schema_arrow()
    for batch in batches:
        rows = batch.to_pylist()
        for row in rows:
            path = _local_path(row["path"])
            result = logfiles.FileResult(path, row["length"] or 0,
                                         int(row["modificationTime"].timestamp() * 1e9) if row["modificationTime"] else 0)
            raw = row["content"] or b""
            skip = logfiles.classify_name(path)
            if skip:
                result.sha256 = hashlib.sha256(raw).hexdigest()
                result.status, result.reason = "skipped", skip
            elif len(raw) > logfiles.MAX_DECOMPRESSED_MB * 1024 * 1024:
                logfiles._failed(result, logfiles.too_large(len(raw)))
            else:
                result = logfiles.read_bytes(result, raw, path)
            columns = None
            if result.records:
                try:
                    columns = logfiles._extract_columns([result])
                except Exception as error:  # noqa: BLE001 - named in ingested_files like the local ingest
                    result.status, result.records = "failed", 0
                    result.reason = f"could not be turned into columns: {str(error).strip().splitlines()[0][:200]}"
            result.texts = []
            key = _delivery_key(path)
            if columns is not None and columns.num_rows:
                n = columns.num_rows
                arrays = [columns[f.name].cast(f.type) if f.name in columns.column_names else pa.nulls(n, f.type)
                          for f in event_fields]
                # source_file is the path as Spark lists it, without the file: scheme
                arrays[[f.name for f in event_fields].index("source_file")] = pa.array([path] * n, pa.string())
                extra = [pa.array([False] * n), pa.array([key] * n), pa.array(range(n), pa.int64())] + \
                        [pa.nulls(n, f.type) for f in schema][len(event_fields) + 3:]
                yield pa.RecordBatch.from_arrays([a.combine_chunks() if hasattr(a, "combine_chunks") else a
                                                  for a in arrays] + extra, schema=schema)
            file_values = {"is_file": True, "delivery_key": key, "record_index": -1,
                           "source_file": path, "file_size": result.size, "file_mtime_ns": result.mtime_ns,
                           "file_sha256": result.sha256, "file_status": result.status, "file_reason": result.reason,
                           "file_records": result.records, "file_bad_records": result.bad_records}
            yield pa.RecordBatch.from_pylist([file_values], schema=schema)


def output_schema_arrow():
    import pyarrow as pa
    return pa.schema(_event_schema() + [
        pa.field("is_file", pa.bool_()), pa.field("delivery_key", pa.string()), pa.field("record_index", pa.int64()),
        pa.field("file_size", pa.int64()), pa.field("file_mtime_ns", pa.int64()), pa.field("file_sha256", pa.string()),
        pa.field("file_status", pa.string()), pa.field("file_reason", pa.string()),
        pa.field("file_records", pa.int64()), pa.field("file_bad_records", pa.int64())])


def _spark_schema():
    from pyspark.sql.pandas.types import from_arrow_schema
    return from_arrow_schema(output_schema_arrow())


def ingest(spark, source, folder, run_id):
    """Reads the tree, writes FOLDER/events and FOLDER/ingested_files; returns counts."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    files = (spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(source)
             .select("path", "modificationTime", "length", "content"))
    # Many small log files: a task per couple of megabytes keeps every core busy.
    parsed = files.mapInArrow(parse_partition, _spark_schema()).persist()
    file_rows = parsed.where("is_file")
    events = parsed.where("not is_file")
    # The local ingest keeps the first copy of an event in delivery order (file name time,
    # then path, then position in the file); so does this.
    first = Window.partitionBy(*DEDUP_KEY).orderBy("delivery_key", "record_index")
    kept = events.withColumn("_copy", F.row_number().over(first)).where("_copy = 1")
    event_columns = [f.name for f in _event_schema()]
    load_id = int(time.time())
    to_write = (kept.select(*event_columns, F.lit(load_id).cast("bigint").alias("load_id"))
                .withColumn("event_date", F.date_format("event_time", "yyyy-MM-dd")))
    (to_write.repartition("event_date")
     .sortWithinPartitions("recipient_account_id", "aws_region", "event_time", "event_id")
     .write.mode("errorifexists").partitionBy("event_date").parquet(f"{folder}/events"))
    new_by_file = kept.groupBy("source_file").count().withColumnRenamed("count", "new_events")
    now = common.now_utc()
    ingested = (file_rows.join(new_by_file, "source_file", "left")
                .select(F.col("source_file").alias("path"), F.col("file_size").alias("size"),
                        F.timestamp_micros((F.col("file_mtime_ns") / 1000).cast("bigint")).alias("modified_at"),
                        F.col("file_mtime_ns").alias("mtime_ns"), F.col("file_sha256").alias("sha256"),
                        F.col("file_records").alias("records_read"), F.col("file_bad_records").alias("bad_records"),
                        F.coalesce("new_events", F.lit(0)).cast("bigint").alias("new_events"),
                        (F.col("file_records") - F.coalesce("new_events", F.lit(0))).cast("bigint").alias("duplicate_events"),
                        F.col("file_status").alias("status"), F.nullif(F.col("file_reason"), F.lit("")).alias("reason"),
                        F.lit(now).alias("ingested_at"), F.lit(run_id).alias("run_id"))
                .orderBy("path"))
    ingested.write.mode("errorifexists").parquet(f"{folder}/ingested_files")
    counts = spark.read.parquet(f"{folder}/ingested_files").agg(
        F.count("*"), F.sum("records_read"), F.sum("new_events"), F.sum("bad_records"),
        F.sum(F.when(F.col("status") == "failed", 1).otherwise(0))).collect()[0]
    parsed.unpersist()
    return {"files": counts[0], "records": counts[1] or 0, "events": counts[2] or 0,
            "bad_records": counts[3] or 0, "failed_files": counts[4] or 0}


# ---------------------------------------------------------------- detections

def load_events(spark, folder):
    """FOLDER/events as the events view (event_date read as text, never guessed)."""
    events = (spark.read.option("basePath", f"{folder}/events").parquet(f"{folder}/events")
              .drop("event_date"))
    # Every detection reads the events: read the files once (Spark spills to disk what does not fit).
    events = events.persist()
    events.createOrReplaceTempView("events")
    return events


def case_macros_sql():
    """The case database's macros and window view (casedb.SCHEMA_SQL from in_window on, and
    casedb.shared_macros_sql): compiled first, so every rule's macro calls are inlined."""
    import casedb
    return casedb.SCHEMA_SQL[casedb.SCHEMA_SQL.index("create or replace macro"):] + casedb.shared_macros_sql()


def run_detections(spark, since=None, until=None):
    """Every detection of every area on the events view -> (areas, outcomes by area, local-only).

    local-only: [(detection id, reason)] for detections that cannot run on Spark.
    """
    import casedb
    import detections
    import rule_catalogue
    import spark_sql

    results, local_only = [], []
    for area in rule_catalogue.areas():
        variables = dict(area.variables) | {"since": since, "until": until}
        ctx = spark_sql.Context(variables)
        outcomes = []
        try:
            for statement in spark_sql.compile_sql(case_macros_sql(), context=ctx):
                spark.sql(statement)
            for statement in spark_sql.compile_sql(area.setup_sql, context=ctx):
                spark.sql(statement)
            setup_error = ""
        except spark_sql.NotPortable as error:
            setup_error = f"NotPortable: {error}"
        except Exception as error:  # noqa: BLE001 - Spark raises many kinds; each is reported per detection
            setup_error = f"{type(error).__name__}: {_first_line(error)}"
        for rule in area.rules:
            outcome = detections.Outcome(rule.detection)
            started = time.monotonic()
            if setup_error:
                outcome.error = f"the area's views failed: {setup_error}"
            elif rule.sql is None or rule.detection.id in rule_catalogue.LOCAL_ONLY:
                outcome.error = f"local-only: {rule.local_reason}"
                local_only.append((rule.detection.id, rule.local_reason))
            else:
                try:
                    query = spark_sql.compile_query(rule.sql, context=ctx)
                    rows = [row.asDict(recursive=True) for row in spark.sql(query).collect()]
                    if rule.python is not None:
                        rows = python_rule_rows(spark, rule, rows, ctx)
                    outcome.findings = finish_rows(rows, rule.detection)
                except spark_sql.NotPortable as error:
                    outcome.error = f"NotPortable: {error}"
                except Exception as error:  # noqa: BLE001 - one failing detection never stops the others
                    outcome.error = f"{type(error).__name__}: {_first_line(error)}"
            outcome.seconds = time.monotonic() - started
            outcomes.append(outcome)
        results.append((area, outcomes))
    return results, local_only


def python_rule_rows(spark, rule, candidates, ctx):
    """A Python rule on Spark: its SQL ran on Spark (candidates, few rows), its function runs
    here, and the engine's join adds the shared columns - as detections._python_rule_rows."""
    import detections
    import rule_catalogue
    import spark_sql
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    produced = list(rule.python(candidates))
    allowed = set(detections.RULE_REQUIRED + detections.RULE_OPTIONAL + detections.OVERRIDES)
    for item in produced:
        if not isinstance(item, dict) or any(key not in item for key in detections.RULE_REQUIRED):
            raise ValueError(f"{rule.detection.python} must yield dicts with {detections.RULE_REQUIRED}, got {item!r:.200}")
        if set(item) - allowed:
            raise ValueError(f"{rule.detection.python} yields unexpected keys {sorted(set(item) - allowed)}")
    schema = StructType([StructField("event_id", StringType()), StructField("event_ids", ArrayType(StringType())),
                         StructField("summary", StringType()), StructField("python_row", LongType())])
    keys = [(item["event_id"], list(item.get("event_ids") or [item["event_id"]]), item["summary"], number)
            for number, item in enumerate(produced)]
    spark.createDataFrame(keys, schema).createOrReplaceTempView("python_rule_rows")
    query = spark_sql.compile_query(rule_catalogue.python_rule_query(rule.detection), context=ctx)
    rows = []
    for row in spark.sql(query).collect():
        row = row.asDict(recursive=True)
        item = produced[row.pop("python_row")]
        for name in ("resource", "severity", "details") + detections.OVERRIDES:
            if name in item:
                row[name] = item[name]
        rows.append(row)
    return rows


def _first_line(error):
    """The message of an error in one line; for a Java error, Java's own message (py4j's first
    line only says which call failed)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("An error occurred while calling"):
        lines = [line.lstrip(": ") for line in lines[1:]]
    return lines[0][:300] if lines else ""


def finish_rows(rows, detection):
    """The engine's common finishing of finding rows (detections._finding_rows does the same)."""
    import detections
    finished = []
    for row in rows:
        row = dict(row)
        if row.get("severity") is not None and row["severity"] not in detections.SEVERITIES:
            raise ValueError(f"row severity {row['severity']!r} is not one of {detections.SEVERITIES}")
        row["severity"] = row.get("severity") or detection.severity
        row["last_time"] = row.get("last_time") or row.get("event_time")
        row["event_ids"] = list(row.get("event_ids") or [row["event_id"]])
        for key in ("event_time", "last_time"):
            if isinstance(row.get(key), dt.datetime) and row[key].tzinfo is None:
                row[key] = row[key].replace(tzinfo=dt.timezone.utc)
        finished.append(row)
    finished.sort(key=lambda r: (r["event_time"] is None, r["event_time"] or 0, r["event_id"] or ""))
    return finished


def _json_ready(value):
    """Spark Rows of a details struct -> plain dicts and lists for JSON."""
    if hasattr(value, "asDict"):
        return {k: _json_ready(v) for k, v in value.asDict(recursive=True).items()}
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def finding_records(results, run_id, since, until):
    """Rows of the findings table (detections.FINDINGS_SCHEMA columns)."""
    import orjson
    now = common.now_utc()
    records = []
    for area, outcomes in results:
        for outcome in outcomes:
            if outcome.error:
                continue
            d = outcome.detection
            for f in outcome.findings:
                details = f.get("details")
                resource = f.get("resource")
                records.append({
                    "detector": area.name, "detection_id": d.id, "title": d.title, "severity": f["severity"],
                    "mitre": list(d.mitre), "first_time": f.get("event_time"), "last_time": f.get("last_time"),
                    "event_id": f["event_id"], "event_ids": f["event_ids"], "error_code": f.get("error_code"),
                    "actor": f.get("actor"), "source_ip": f.get("source_ip"), "account_id": f.get("account_id"),
                    "region": f.get("region"),
                    "resource": resource if resource is None or isinstance(resource, str)
                    else orjson.dumps(_json_ready(resource), default=str).decode(),
                    "summary": f.get("summary"),
                    "details": None if details is None else orjson.dumps(_json_ready(details), default=str).decode(),
                    "run_id": run_id, "window_since": since, "window_until": until, "found_at": now,
                })
    return records


def write_findings(spark, records, folder):
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    import detections
    schema = from_arrow_schema(detections.FINDINGS_SCHEMA)
    table = pa.Table.from_pylist(records, schema=detections.FINDINGS_SCHEMA)
    frame = spark.createDataFrame(table.to_pandas(), schema=schema) if records else spark.createDataFrame([], schema)
    frame.coalesce(1).write.mode("errorifexists").parquet(f"{folder}/findings")


# ---------------------------------------------------------------- the run

def report_folder(folder):
    if os.environ.get("CLOUDTRAIL_OUTPUT_DIR", "").strip():
        return common.output_dir(folder)
    if "://" in folder:
        target = Path("reports")
    else:
        target = Path(folder) / "reports"
    target.mkdir(parents=True, exist_ok=True)
    return target


def run(argv):
    arguments = argv[1:]
    if len(arguments) != 2:
        raise UsageError("expected INPUT and FOLDER")
    source, folder = arguments
    source, folder = source.rstrip("/") or "/", folder.rstrip("/") or "/"
    if "://" not in source and not os.path.exists(source):
        raise ToolError(f"{source}: no such folder - give the folder (or s3a:// URI) of the CloudTrail logs")
    if "://" not in folder and any((Path(folder) / name).exists() for name in ("events", "findings", "ingested_files")):
        raise ToolError(f"{folder}: already holds a case - choose a new FOLDER (nothing is overwritten)")
    if "://" not in source:
        source = os.path.abspath(source)
    if "://" not in folder:
        folder = os.path.abspath(folder)
    started = common.now_utc()
    run_id = uuid.uuid4().hex[:12]
    spark = spark_session()
    try:
        clock = time.monotonic()
        counts = ingest(spark, source, folder, run_id)
        ingest_seconds = time.monotonic() - clock
        print(f"analyze_spark.py: {counts['events']:,} events from {counts['files']:,} files "
              f"({counts['records']:,} records, {counts['bad_records']:,} unreadable) in {ingest_seconds:.1f} s")
        clock = time.monotonic()
        events = load_events(spark, folder)
        results, local_only = run_detections(spark)
        records = finding_records(results, run_id, None, None)
        write_findings(spark, records, folder)
        detect_seconds = time.monotonic() - clock
        report = write_report(folder, started, run_id, counts, results, local_only, events,
                              ingest_seconds, detect_seconds)
    except Exception as error:
        if type(error).__module__.startswith(("pyspark", "py4j")):
            raise ToolError(f"Spark failed: {_first_line(error)} - see the Spark log above") from None
        raise
    finally:
        spark.stop()
    failed = [o.detection.id for _, outcomes in results for o in outcomes if o.error]
    print(f"  {len(records)} finding(s) from {sum(len(o) for _, o in results)} detections; "
          f"{len(failed)} did not run on Spark" + (f": {', '.join(failed)}" if failed else ""))
    print(f"  case: {folder}")
    print(f"  report: {report}")
    return common.EXIT_RUNTIME if counts["failed_files"] else common.EXIT_OK


def write_report(folder, started, run_id, counts, results, local_only, events, ingest_seconds, detect_seconds):
    import detections
    import reports
    from pyspark.sql import functions as F

    stats = events.agg(F.count("*"), F.min("event_time"), F.max("event_time")).collect()[0]
    context = detections.Context(folder, None, None, run_id, stats[0], stats[1], stats[2])
    context.accounts = [tuple(r) for r in events.groupBy("recipient_account_id").count()
                        .orderBy(F.desc("count")).limit(20).collect()]
    context.regions = [tuple(r) for r in events.groupBy("aws_region").count().orderBy(F.desc("count")).limit(20).collect()]
    outcomes = [o for _, area_outcomes in results for o in area_outcomes]
    notes = [f"Ingest on Spark: {counts['files']:,} files, {counts['records']:,} records, {counts['events']:,} "
             f"events kept, {counts['bad_records']:,} unreadable records, {ingest_seconds:.1f} s; detections "
             f"{detect_seconds:.1f} s.",
             "Findings are stored as Parquet in FOLDER/findings/ (the findings table's columns)."]
    notes += [f"Local-only detection {common.md_code(i)}: {common.md_text(reason)}" for i, reason in local_only]
    path = common.new_output_path(report_folder(folder), "spark_report", ".md", started)
    return reports.write_report(path, "Spark run: every detection", "analyze_spark.py", context, outcomes, [], notes)


def main(argv):
    return common.run_cli(__doc__, argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
