"""Detections: the record that describes one, and the runner shared by every detector script.

A detection is data: id, title, severity, MITRE ATT&CK ids, description, false positives,
triage steps, and a SQL query (or a small Python function where SQL cannot say it).
Every query reads `scoped_events` (the events inside the run's SINCE/UNTIL window) and
returns the FINDING_COLUMNS, in that order:

  event_time   first event behind the finding (UTC)
  event_name   API action
  resource     what was acted on
  actor        who acted
  source_ip    where from
  account_id   account the event was recorded in
  region       AWS region
  event_id     the triggering event (or the first of a group)
  error_code   NULL when the call succeeded; a failed call is an attempt, reported as such
  last_time    last event behind the finding
  event_ids    every event behind the finding
  severity     NULL for the detection's own severity, or a row-specific one
  summary      one line a person can read
  details      the evidence specific to the detection (a struct, stored as JSON)
"""
import os
import re
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Callable

import duckdb
import orjson
import pyarrow as pa

import casedb
import common
from common import UsageError

SEVERITIES = ("info", "low", "medium", "high", "critical")
MITRE_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
DETECTION_ID = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
FINDING_COLUMNS = ("event_time", "event_name", "resource", "actor", "source_ip", "account_id", "region",
                   "event_id", "error_code", "last_time", "event_ids", "severity", "summary", "details")


@dataclass(frozen=True)
class Detection:
    id: str                      # <resource>_<past_tense_verb>[_<qualifier>]
    title: str
    severity: str                # one of SEVERITIES
    mitre: tuple                 # ATT&CK technique ids, e.g. ("T1098.001",)
    description: str             # starts "Detects ...": what it finds and why it matters
    false_positives: str
    triage: tuple                # two or three steps, in order
    sql: str = ""                # returns FINDING_COLUMNS
    find: Callable = None        # find(con) -> rows of FINDING_COLUMNS, where SQL cannot say it


@dataclass
class Outcome:
    """What one detection did in one run."""
    detection: Detection
    findings: list = field(default_factory=list)     # rows as dicts, ordered by time
    error: str = ""
    seconds: float = 0.0


@dataclass
class Context:
    """What a detector run looked at; the report's opening section."""
    db_path: str
    since: object
    until: object
    run_id: str
    events_in_scope: int = 0
    first_event: object = None
    last_event: object = None
    accounts: list = field(default_factory=list)
    regions: list = field(default_factory=list)


def parse_detector_args(argv, extra=0):
    """DATABASE [SINCE [UNTIL]] (after `extra` positional arguments) -> (db, extras, since, until)."""
    arguments = argv[1:]
    if len(arguments) < 1 + extra or len(arguments) > 3 + extra:
        raise UsageError("expected DATABASE" + (" and more arguments" if extra else "") + " [SINCE [UNTIL]]")
    db_path = arguments[0]
    extras = arguments[1:1 + extra]
    since, until = common.parse_window(*arguments[1 + extra:])
    return db_path, extras, since, until


def open_scope(db_path, since, until):
    """Opens the case, sets the window and describes what is in it."""
    con = casedb.open_case(db_path)
    casedb.set_window(con, since, until)
    run_id = uuid.uuid4().hex[:12]
    context = Context(db_path, since, until, run_id)
    row = casedb.one(con, "select count(*), min(event_time), max(event_time) from scoped_events")
    context.events_in_scope, context.first_event, context.last_event = row
    context.accounts = casedb.rows(con, """
        select recipient_account_id, count(*) from scoped_events group by 1 order by 2 desc""")
    context.regions = casedb.rows(con, """
        select aws_region, count(*) from scoped_events group by 1 order by 2 desc""")
    return con, context


def run_detections(con, detections):
    """Runs each detection; one that fails is reported and the others still run."""
    outcomes = []
    for detection in detections:
        outcome = Outcome(detection)
        started = time.monotonic()
        try:
            outcome.findings = _finding_rows(con, detection)
        except (duckdb.Error, ValueError, TypeError, KeyError, IndexError, orjson.JSONDecodeError) as error:
            outcome.error = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            print(f"{detection.id}: failed ({common.terminal_safe(outcome.error)}); the other detections still ran",
                  file=sys.stderr)
            if common.env_text("CLOUDTRAIL_DEBUG", ""):
                traceback.print_exc()
        outcome.seconds = time.monotonic() - started
        outcomes.append(outcome)
    return outcomes


def _finding_rows(con, detection):
    if detection.sql:
        # Through Arrow: fetchall() of nested details structs was several times slower
        # on detections with tens of thousands of findings.
        table = con.sql(detection.sql).to_arrow_table()
        names = tuple(table.column_names)
        if names != FINDING_COLUMNS:
            raise ValueError(f"query returns columns {names}, expected {FINDING_COLUMNS}")
        found = table.to_pylist()
    else:
        found = [dict(zip(FINDING_COLUMNS, values)) for values in detection.find(con)]
    rows = []
    for row in found:
        if row["severity"] is not None and row["severity"] not in SEVERITIES:
            raise ValueError(f"row severity {row['severity']!r} is not one of {SEVERITIES}")
        row["severity"] = row["severity"] or detection.severity
        row["last_time"] = row["last_time"] or row["event_time"]
        row["event_ids"] = list(row["event_ids"] or [row["event_id"]])
        rows.append(row)
    rows.sort(key=lambda r: (r["event_time"] is None, r["event_time"] or 0, r["event_id"] or ""))
    return rows


FINDINGS_SCHEMA = pa.schema([
    ("detector", pa.string()), ("detection_id", pa.string()), ("title", pa.string()),
    ("severity", pa.string()), ("mitre", pa.list_(pa.string())),
    ("first_time", pa.timestamp("us", tz="UTC")), ("last_time", pa.timestamp("us", tz="UTC")),
    ("event_id", pa.string()), ("event_ids", pa.list_(pa.string())), ("error_code", pa.string()),
    ("actor", pa.string()), ("source_ip", pa.string()), ("account_id", pa.string()),
    ("region", pa.string()), ("resource", pa.string()), ("summary", pa.string()), ("details", pa.string()),
    ("run_id", pa.string()), ("window_since", pa.timestamp("us", tz="UTC")),
    ("window_until", pa.timestamp("us", tz="UTC")), ("found_at", pa.timestamp("us", tz="UTC")),
])


def store_findings(con, detector, context, outcomes):
    """Replaces this detector's earlier findings with this run's, in one transaction.

    A detection that failed keeps its earlier findings rather than silently losing them.
    """
    now = common.now_utc()
    rows = []
    for outcome in outcomes:
        if outcome.error:
            continue
        d = outcome.detection
        for f in outcome.findings:
            rows.append({
                "detector": detector, "detection_id": d.id, "title": d.title, "severity": f["severity"],
                "mitre": list(d.mitre), "first_time": f["event_time"], "last_time": f["last_time"],
                "event_id": f["event_id"], "event_ids": f["event_ids"], "error_code": f["error_code"],
                "actor": f["actor"], "source_ip": f["source_ip"], "account_id": f["account_id"],
                "region": f["region"], "resource": _text(f["resource"]), "summary": f["summary"],
                "details": orjson.dumps(f["details"], default=str).decode() if f["details"] is not None else None,
                "run_id": context.run_id, "window_since": context.since, "window_until": context.until,
                "found_at": now,
            })
    table = pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA)
    failed = [outcome.detection.id for outcome in outcomes if outcome.error]
    con.begin()
    try:
        con.execute("delete from findings where detector = ? and not list_contains(?, detection_id)", [detector, failed])
        con.register("new_findings", table)
        con.execute("insert into findings by name select * from new_findings")
        con.unregister("new_findings")
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _text(value):
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


def find_detectors(folder):
    """[(script name, module or None, problem)] for every analyze_*.py in folder defining
    DETECTIONS and AREA. A script that cannot be imported may be a detector, so it is listed
    with the reason instead of being skipped."""
    import importlib
    from pathlib import Path

    found = []
    for path in sorted(Path(folder).glob("analyze_*.py")):
        try:
            module = importlib.import_module(path.stem)
        # A detector being edited may fail on import in any way; callers name it and go on.
        except Exception as error:  # noqa: BLE001
            found.append((path.name, None, f"could not be loaded: {type(error).__name__}: {error}".splitlines()[0]))
            continue
        if hasattr(module, "DETECTIONS") and hasattr(module, "AREA"):
            found.append((path.name, module, ""))
    return found


def check_detection(detection):
    """Metadata problems of a detection (empty list when it is well formed)."""
    problems = []
    if not DETECTION_ID.match(detection.id):
        problems.append("id must be lowercase words joined by _")
    if detection.severity not in SEVERITIES:
        problems.append(f"severity {detection.severity!r} not in {SEVERITIES}")
    if not detection.mitre or not all(MITRE_TECHNIQUE.match(m) for m in detection.mitre):
        problems.append(f"MITRE ids {detection.mitre!r} must look like T1098 or T1098.001")
    if not detection.description.startswith("Detects "):
        problems.append("description must start with 'Detects '")
    if not detection.false_positives.strip():
        problems.append("false positives missing")
    if not 2 <= len(detection.triage) <= 4:
        problems.append("needs two to four triage steps")
    if bool(detection.sql) == bool(detection.find):
        problems.append("needs exactly one of sql or find")
    return problems


# ---------------------------------------------------------------- a detector run

@dataclass(frozen=True)
class Setting:
    """A threshold the analyst can change: SQL reads getvariable(variable), the shell sets env.

    A number, or (default a tuple) a list of texts given comma-separated, read in SQL as a
    varchar[] variable.
    """
    variable: str
    env: str
    default: object
    meaning: str


@dataclass(frozen=True)
class Area:
    """What a detector script is about: names its outputs and its activity chart."""
    name: str                # findings.detector and the output names: <name>_report-<stamp>.md
    title: str               # report title
    tool: str                # script name
    activity_sql: str        # (minute, succeeded, failed) of the area's events in scope
    activity_title: str
    notes: tuple = ()        # plain statements the report must make (e.g. what is excluded and why)
    setup_sql: str = ""      # views the detections share, stored in the case so queries can be pasted
    settings: tuple = ()     # Setting entries
    data_notes: Callable = None   # data_notes(con) -> notes that depend on the data in scope


def apply_settings(con, settings):
    """Sets each threshold as a DuckDB variable; returns {variable: value} for the report."""
    applied = {}
    for setting in settings:
        # The name is written into SQL (a variable name cannot be a parameter), so it is checked.
        if not re.fullmatch(r"[a-z][a-z0-9_]*", setting.variable):
            raise common.ToolError(f"threshold name {setting.variable!r} must be lowercase letters, digits and _")
        if isinstance(setting.default, tuple):
            raw = os.environ.get(setting.env, "")
            value = [item.strip() for item in raw.split(",") if item.strip()] if raw.strip() else list(setting.default)
            con.execute(f"set variable {setting.variable} = ?::varchar[]", [value])
        else:
            value = common.env_number(setting.env, setting.default, type(setting.default))
            con.execute(f"set variable {setting.variable} = ?", [value])
        applied[setting.variable] = value
    return applied


# Charts are drawn from the logs; a chart that fails is noted and the report still written.
CHART_ERRORS = (duckdb.Error, ValueError, TypeError, KeyError, OverflowError, RuntimeError)


def run_detector(argv, area, detections, extra_charts=()):
    """The whole run of a detector script: DATABASE [SINCE [UNTIL]] -> findings, report,
    charts, analyst log. extra_charts: functions (con, outcomes, folder, moment) -> [(caption, path)]."""
    db_path, _, since, until = parse_detector_args(argv)
    started = common.now_utc()
    try:
        return _run_detector(argv, area, detections, extra_charts, db_path, since, until, started)
    except duckdb.Error as error:
        raise common.ToolError(f"{db_path}: database error: {str(error).strip().splitlines()[0]}") from None


def _run_detector(argv, area, detections, extra_charts, db_path, since, until, started):
    import charts
    import reports
    import triage

    con, context = open_scope(db_path, since, until)
    try:
        if area.setup_sql:
            con.execute(area.setup_sql)
        applied = apply_settings(con, area.settings)
        outcomes = run_detections(con, detections)
        store_findings(con, area.name, context, outcomes)
        folder = common.output_dir(db_path)
        findings = [f for o in outcomes for f in o.findings]
        drawn, notes = [], list(area.notes)
        if area.data_notes:
            notes += list(area.data_notes(con))
        notes += [f"{s.meaning}: {setting_text(applied[s.variable])} (set {s.env} to change)" for s in area.settings]
        chart_jobs = [lambda: [(area.activity_title + " (findings marked)", charts.activity_chart(
            con, area.activity_sql, findings, area.activity_title,
            common.new_output_path(folder, f"{area.name}_activity", ".png", started)))]]
        chart_jobs += [lambda chart=chart: chart(con, outcomes, folder, started) for chart in extra_charts]
        for job in chart_jobs:
            try:
                drawn += [(caption, path) for caption, path in job() if path]
            except CHART_ERRORS as error:
                notes.append(f"A chart could not be drawn: {common.md_text(str(error).splitlines()[0] if str(error) else type(error).__name__)}")
        report = reports.write_report(common.new_output_path(folder, f"{area.name}_report", ".md", started),
                                      area.title, area.tool, context, outcomes, drawn, notes,
                                      triage=triage.triage_summary(con, area.name))
        log = _log_run(argv, area, context, outcomes, report, drawn, started)
        summary = orjson.dumps({"findings": len(findings), "failed_detections": [o.detection.id for o in outcomes if o.error]}).decode()
        casedb.record_run(con, context.run_id, area.tool, " ".join(argv[1:]), started, common.now_utc(), 0, summary)
    finally:
        con.close()
    print(f"{area.tool}: {len(findings)} finding(s) from {len(detections)} detections over "
          f"{context.events_in_scope:,} events ({common.describe_window(since, until)})")
    failed = [o.detection.id for o in outcomes if o.error]
    if failed:
        print(f"  {len(failed)} detection(s) failed: {', '.join(failed)} (see the report)")
    print(f"  report: {report}")
    for _, path in drawn:
        print(f"  chart: {path}")
    print(f"  analyst log: {log}")
    return common.EXIT_OK


def setting_text(value):
    """A threshold as the reports and README show it."""
    if isinstance(value, (list, tuple)):
        return ", ".join(value) if value else "none"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _log_run(argv, area, context, outcomes, report, drawn, started):
    from common import md_code, md_table
    findings = sorted((f | {"title": o.detection.title} for o in outcomes for f in o.findings),
                      key=lambda f: (["critical", "high", "medium", "low", "info"].index(f["severity"]),
                                     str(f["event_time"])))
    lines = [f"Command: {md_code(' '.join([area.tool] + list(argv[1:])))}",
             f"- window: {common.describe_window(context.since, context.until)}",
             f"- events in scope: {context.events_in_scope:,}",
             f"- detections: {len(outcomes)} ran, {sum(1 for o in outcomes if o.findings)} fired, "
             f"{sum(1 for o in outcomes if o.error)} failed",
             f"- findings: {len(findings)}",
             f"- report: {report.name}" + "".join(f"; chart: {path.name}" for _, path in drawn), ""]
    if findings:
        lines += ["Sample findings (most severe first):", ""]
        lines += md_table(["severity", "title", "time", "actor", "summary", "event id"],
                          [(f["severity"], f["title"], common.format_time(f["event_time"]), f["actor"],
                            f["summary"], f["event_id"]) for f in findings[:5]])
    return common.AnalystLog(context.db_path, started).write(area.tool, lines)
