"""Export a case database: Parquet for Spark, Athena and Trino; CSV and JSON Lines of the findings,
the incidents and an event timeline for tickets, spreadsheets and timeline tools.

usage: analyze_export.py DATABASE FOLDER [FORMAT ...] [principal=NAME] [ip=ADDRESS] [since=TIME] [until=TIME]

  DATABASE  case database written by analyze_ingest.py
  FOLDER    where the export goes (created when missing; files already there are never overwritten)
  FORMAT    parquet  the whole case: FOLDER/events/event_date=YYYY-MM-DD/*.parquet, findings/,
                     incidents/ (when the case has them), ingested_files/ (the default)
            csv      findings.csv, incidents.csv and timeline.csv
            jsonl    the same three as JSON Lines (one object per line)
  principal=NAME     timeline of one identity: its ARN, user name, session issuer ARN or access key
  ip=ADDRESS         timeline of one source IP address
  since=TIME         timeline from this moment, ISO date or time in UTC (e.g. 2026-11-01T13:30)
  until=TIME         timeline to this moment (a date includes that whole day)

Filters narrow the timeline only; findings and incidents are always exported whole. Every export
streams from the database to the files (nothing is held in memory), so a large case exports on a
small machine. CSV cells that start with = + - @, a tab or a carriage return get a leading ' so
that a spreadsheet shows them as text instead of running them as a formula.

examples:
  analyze_export.py cases.db export/                       # Parquet, for Spark or Athena
  analyze_export.py cases.db tickets/ csv principal=arn:aws:iam::111122223333:user/alice
  analyze_export.py cases.db timeline/ jsonl ip=198.51.100.7 since=2026-11-01 until=2026-11-02
"""
import sys
from pathlib import Path

import duckdb

import casedb
import common
from common import ToolError, UsageError

FORMATS = ("parquet", "csv", "jsonl")
FILTERS = ("principal", "ip", "since", "until")
PARQUET_TABLES = ("events", "findings", "incidents", "ingested_files")

# The JSON columns of events leave as text: Parquet readers (Spark, Athena) do not all know
# DuckDB's JSON annotation, and text is what they query with get_json_object/json_extract.
JSON_EVENT_COLUMNS = ("request_parameters", "response_elements", "additional_event_data", "resources",
                      "tls_details", "service_event_details", "record")
# Rows without a readable eventTime go to Hive's partition for NULL, which Spark reads back as NULL.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"

# (column, meaning): the CSV and JSON Lines columns, in order; README.md documents the same lists.
FINDINGS_EXPORT = (
    ("detection_id", "the detection that fired"),
    ("severity", "info, low, medium, high or critical"),
    ("title", "the detection's title"),
    ("first_time", "first event behind the finding (ISO 8601, UTC)"),
    ("last_time", "last event behind the finding"),
    ("event_id", "the triggering event; with detection_id it names the finding"),
    ("event_ids", "every event behind the finding (space-separated in CSV, a list in JSON)"),
    ("error_code", "empty when the calls succeeded; else the attempt's error"),
    ("actor", "who acted"),
    ("source_ip", "where from"),
    ("account_id", "account the event was recorded in"),
    ("region", "AWS region"),
    ("resource", "what was acted on"),
    ("summary", "one line a person can read"),
    ("mitre", "ATT&CK technique ids (space-separated in CSV)"),
    ("detector", "the detector script's area"),
    ("details", "the evidence as JSON text"),
    ("run_id", "the detector run that stored it"),
    ("found_at", "when it was stored"),
)
TIMELINE_EXPORT = (
    ("time", "event time (ISO 8601, UTC)"),
    ("principal", "who acted (the events table's actor)"),
    ("access_key", "access key the call was signed with"),
    ("source_ip", "caller IP address or AWS service"),
    ("region", "AWS region"),
    ("account_id", "account that received the event"),
    ("service", "service, e.g. iam (eventSource without .amazonaws.com)"),
    ("action", "API action (eventName)"),
    ("result", "success, or the error code"),
    ("resource", "the first of: resources[0].ARN, or a name in requestParameters (bucket, user, role, "
                 "group, policy, instance, trail, secret, key, snapshot, name)"),
    ("user_agent", "caller's user agent"),
    ("finding_ids", "findings behind which this event is, as detection_id:event_id (space-separated in CSV)"),
    ("event_id", "the event"),
)

_RESOURCE_PATHS = ("$.bucketName", "$.userName", "$.roleName", "$.groupName", "$.policyArn", "$.groupId",
                   "$.instanceId", "$.name", "$.secretId", "$.keyId", "$.snapshotId", "$.imageId",
                   "$.dBInstanceIdentifier", "$.functionName", "$.logGroupName", "$.detectorId")

TIMELINE_SQL = """
with event_findings as (
    select
        behind.event_id,
        list(behind.finding_id order by behind.finding_id) as finding_ids
    from (
        select distinct unnest(event_ids) as event_id, detection_id || ':' || event_id as finding_id
        from findings
    ) as behind
    group by behind.event_id
)
select
    e.event_time as time,
    e.actor as principal,
    e.access_key_id as access_key,
    e.source_ip,
    e.aws_region as region,
    e.recipient_account_id as account_id,
    regexp_replace(e.event_source, '\\.amazonaws\\.com$', '') as service,
    e.event_name as action,
    coalesce(e.error_code, 'success') as result,
    coalesce(e.resources->>'$[0].ARN', {resource_paths}) as resource,
    e.user_agent,
    f.finding_ids,
    e.event_id
from events as e
left join event_findings as f using (event_id)
where {where}
order by e.event_time, e.event_id
"""


def parse_args(argv):
    """-> (database, folder, formats, filters); filters maps principal/ip/since/until to text."""
    arguments = argv[1:]
    if len(arguments) < 2:
        raise UsageError("expected DATABASE and FOLDER")
    database, folder, rest = arguments[0], arguments[1], arguments[2:]
    formats, filters = [], {}
    for word in rest:
        if "=" in word:
            key, value = word.split("=", 1)
            if key not in FILTERS:
                raise UsageError(f"unknown filter {key!r} (use {', '.join(f + '=' for f in FILTERS)})")
            if not value.strip():
                raise UsageError(f"{key}= needs a value")
            filters[key] = value.strip()
        elif word.lower() in FORMATS:
            if word.lower() not in formats:
                formats.append(word.lower())
        else:
            raise UsageError(f"unknown format {word!r} (use {', '.join(FORMATS)})")
    if filters and not set(formats) & {"csv", "jsonl"}:
        if formats:
            raise UsageError("filters apply to the csv and jsonl timeline; add csv or jsonl")
        formats = ["csv"]
    return database, folder, formats or ["parquet"], filters


def run(argv):
    database, folder, formats, filters = parse_args(argv)
    since, until = common.parse_window(filters.get("since"), filters.get("until"))
    started = common.now_utc()
    out = Path(folder)
    planned = _planned_outputs(out, formats)
    existing = [path for path in planned if path.exists()]
    if existing:
        raise ToolError(f"{existing[0]}: already exists - exports never overwrite; choose a new FOLDER")
    con = export_connection(database)
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ToolError(f"cannot create {out}: {error.strerror} - choose a writable FOLDER") from None
        written = []
        if "parquet" in formats:
            written += export_parquet(con, out)
        for kind in ("csv", "jsonl"):
            if kind in formats:
                written += export_tables(con, out, kind, filters.get("principal"), filters.get("ip"), since, until)
    except duckdb.Error as error:
        raise ToolError(f"{database}: export failed ({str(error).strip().splitlines()[0]})") from None
    finally:
        con.close()
    lines = [f"Command: {common.md_code(' '.join(['analyze_export.py'] + argv[1:]))}", ""]
    for path, rows in written:
        print(f"{path}: {rows:,} row(s)")
        lines.append(f"- {common.md_code(str(path))}: {rows:,} row(s)")
    common.AnalystLog(database, started).write("analyze_export.py", lines)
    return common.EXIT_OK


def export_connection(database):
    con = casedb.connect(database)
    # COPY keeps the query's order only with insertion order preserved (the case connection
    # turns it off for faster inserts).
    con.execute("set preserve_insertion_order = true")
    return con


def _planned_outputs(out, formats):
    paths = []
    if "parquet" in formats:
        paths += [out / table for table in PARQUET_TABLES]
    for kind in ("csv", "jsonl"):
        if kind in formats:
            paths += [out / f"{name}.{kind}" for name in ("findings", "incidents", "timeline")]
    return paths


def _table_exists(con, name):
    return bool(casedb.scalar(con, "select count(*) from information_schema.tables where table_name = ?", [name]))


def _columns(con, table):
    return [row[0] for row in casedb.rows(con, f"select column_name from information_schema.columns "
                                               f"where table_name = ? order by ordinal_position", [table])]


def _literal(path):
    return "'" + str(path).replace("'", "''") + "'"


# ---------------------------------------------------------------- Parquet

def export_parquet(con, out):
    """Writes events partitioned by day, and findings, incidents, ingested_files, as Parquet.

    Partition values are day strings only: Spark and Athena infer partition column types from
    folder names, and an account id such as 000000000000 would come back as the number 0 - so
    account and region stay ordinary columns inside the files.
    """
    written = []
    columns = _columns(con, "events")
    select = ", ".join(f"{name}::varchar as {name}" if name in JSON_EVENT_COLUMNS else name for name in columns)
    days = [row[0] for row in casedb.rows(con, f"""
        select distinct coalesce(strftime(event_time, '%Y-%m-%d'), '{NULL_PARTITION}') from events order by 1""")]
    total = 0
    for day in days:
        # One COPY per day so each file is sorted by account, region and time: readers skip row
        # groups by their min/max, and DuckDB reads each day's rows by zone map.
        condition = ("event_time is null" if day == NULL_PARTITION else
                     f"event_time >= timestamptz '{day} 00:00:00+00' "
                     f"and event_time < timestamptz '{day} 00:00:00+00' + interval 1 day")
        folder = out / "events" / f"event_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"""
            copy (select {select} from events where {condition}
                  order by recipient_account_id, aws_region, event_time, event_id)
            to {_literal(folder / 'part-0.parquet')} (format parquet, compression zstd, row_group_size 122880)""")
        total += casedb.scalar(con, f"select count(*) from events where {condition}")
    (out / "events").mkdir(parents=True, exist_ok=True)
    written.append((out / "events", total))
    for table, order in (("findings", "first_time, detection_id, event_id"), ("incidents", None),
                         ("ingested_files", "ingested_at, path")):
        if not _table_exists(con, table):
            continue
        names = _columns(con, table)
        types = dict(casedb.rows(con, "select column_name, data_type from information_schema.columns "
                                      "where table_name = ?", [table]))
        select = ", ".join(f"{n}::varchar as {n}" if types[n] == "JSON" else n for n in names)
        folder = out / table
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select {select} from {table}{' order by ' + order if order else ''}) "
                    f"to {_literal(folder / 'part-0.parquet')} (format parquet, compression zstd)")
        written.append((folder, casedb.scalar(con, f"select count(*) from {table}")))
    return written


# ---------------------------------------------------------------- CSV and JSON Lines

def neutralised(expression):
    """SQL that prefixes ' to text a spreadsheet would run as a formula (= + - @ tab CR first)."""
    return (f"case when regexp_matches({expression}, '^[=+\\-@\\t\\r]') "
            f"then '''' || {expression} else {expression} end")


def _iso(expression):
    return f"strftime({expression}, '%Y-%m-%dT%H:%M:%SZ')"


def _shape(name, kind, types):
    """How one column is written: times as ISO 8601 UTC, lists joined in CSV, text neutralised in CSV."""
    data_type = types.get(name, "VARCHAR")
    if data_type.startswith("TIMESTAMP"):
        value = _iso(name)
    elif data_type.endswith("[]"):
        value = f"array_to_string({name}, ' ')" if kind == "csv" else name
    elif data_type == "JSON":
        value = f"{name}::varchar" if kind == "csv" else name
    else:
        value = name
    if kind == "csv" and (data_type.endswith("[]") or data_type in ("VARCHAR", "JSON")):
        value = neutralised(value)
    return f"{value} as {name}"


def _copy(con, query, path, kind, params=None):
    options = "format csv, header true" if kind == "csv" else "format json"
    con.execute(f"copy ({query}) to {_literal(path)} ({options})", params)


def export_tables(con, out, kind, principal, ip, since, until):
    written = []
    types = dict(casedb.rows(con, "select column_name, data_type from information_schema.columns "
                                  "where table_name = 'findings'"))
    findings_select = ", ".join(_shape(name, kind, types) if name in types else f"null::varchar as {name}"
                                for name, _ in FINDINGS_EXPORT)
    path = out / f"findings.{kind}"
    _copy(con, f"select {findings_select} from findings order by first_time, detection_id, event_id", path, kind)
    written.append((path, casedb.scalar(con, "select count(*) from findings")))

    path = out / f"incidents.{kind}"
    if _table_exists(con, "incidents"):
        types = dict(casedb.rows(con, "select column_name, data_type from information_schema.columns "
                                      "where table_name = 'incidents'"))
        names = _columns(con, "incidents")
        _copy(con, f"select {', '.join(_shape(n, kind, types) for n in names)} from incidents "
                   f"order by {names[0]}", path, kind)
        written.append((path, casedb.scalar(con, "select count(*) from incidents")))
    else:
        # The file exists either way, so a script reading the folder finds the same names.
        path.write_text("" if kind == "jsonl" else "incident_id\n", encoding="utf-8")
        written.append((path, 0))

    conditions, params = ["true"], []
    if principal:
        conditions.append("(e.actor = ? or e.user_name = ? or e.session_issuer_arn = ? or e.access_key_id = ?)")
        params += [principal] * 4
    if ip:
        conditions.append("e.source_ip = ?")
        params.append(ip)
    if since:
        conditions.append("e.event_time >= ?")
        params.append(since)
    if until:
        conditions.append("e.event_time < ?")
        params.append(until)
    resource_paths = ", ".join(f"e.request_parameters->>'{p}'" for p in _RESOURCE_PATHS)
    timeline = TIMELINE_SQL.format(resource_paths=resource_paths, where=" and ".join(conditions))
    timeline_types = {"time": "TIMESTAMP WITH TIME ZONE", "finding_ids": "VARCHAR[]"}
    shaped = ", ".join(_shape(name, kind, timeline_types) for name, _ in TIMELINE_EXPORT)
    path = out / f"timeline.{kind}"
    _copy(con, f"select {shaped} from ({timeline}) order by time, event_id", path, kind, params)
    count = casedb.scalar(con, f"select count(*) from events as e where {' and '.join(conditions)}", params)
    written.append((path, count))
    return written


def main(argv):
    return common.run_cli(__doc__, argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
