"""Detections: the record that describes one, and the engine that runs an area's detections.

A detection is data: id, title, severity, MITRE ATT&CK ids, description, false positives,
triage steps, references, status, and a SQL query (plus a small Python function where SQL
cannot say it). Detections of the rules package (rules/<area>/<id>.sql, see rules/README.md)
return only what is specific to them (RULE_COLUMNS); the engine wraps them (rule_query) so
that every finding gets the shared columns from `events`. Detections of the detector scripts
not yet moved to the rules package return all the FINDING_COLUMNS themselves, in this order:

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
import dataclasses
import os
import re
import sys
import time
import traceback
import uuid
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable

import duckdb
import orjson
import pyarrow as pa

import casedb
import common
from common import UsageError

# The one severity order, least severe first. Most severe first: reversed(SEVERITIES);
# in SQL: SEVERITY_RANK_SQL (1 = critical ... 5 = info).
SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK_SQL = "list_position(['critical', 'high', 'medium', 'low', 'info'], severity)"
MITRE_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
DETECTION_ID = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
STATUSES = ("stable", "experimental")
FINDING_COLUMNS = ("event_time", "event_name", "resource", "actor", "source_ip", "account_id", "region",
                   "event_id", "error_code", "last_time", "event_ids", "severity", "summary", "details")

# What a rule of the rules package returns: event_id and summary always; the optional ones may be
# left out. A rule returns one of the OVERRIDES only when its value differs from the triggering
# event's (a spray from several IPs, a group over several regions); the engine takes the rest
# from the events row of event_id. event_time is always the triggering event's time and
# last_time the latest time of the events in event_ids.
RULE_REQUIRED = ("event_id", "summary")
RULE_OPTIONAL = ("event_ids", "resource", "details", "severity")
OVERRIDES = ("event_name", "actor", "source_ip", "account_id", "region", "error_code")


def severity_rank(severity):
    """0 for critical ... 4 for info: sorts most severe first."""
    return len(SEVERITIES) - 1 - SEVERITIES.index(severity)


@dataclass(frozen=True)
class Detection:
    id: str                      # <resource>_<past_tense_verb>[_<qualifier>]
    title: str
    severity: str                # one of SEVERITIES
    mitre: tuple                 # ATT&CK technique ids, e.g. ("T1098.001",)
    description: str             # starts "Detects ...": what it finds and why it matters
    false_positives: str
    triage: tuple                # two or three steps, in order
    sql: str = ""                # rules package: RULE_COLUMNS (wrapped by rule_query); old scripts: FINDING_COLUMNS
    find: Callable = None        # old scripts only: find(con) -> rows of FINDING_COLUMNS
    references: tuple = ()       # links (AWS documentation, research) behind the detection
    status: str = "stable"       # stable | experimental
    python: str = ""             # name of the area function that turns the SQL's rows into findings
    function: Callable = None    # that function: fn(rows) or fn(con, rows) -> iterable of dicts
    rule: bool = False           # True for rules-package detections (the engine adds the shared columns)
    path: str = ""               # the rule file


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


# A detection that fails on the data is reported and the others still run; anything else
# (KeyboardInterrupt, MemoryError, a bug) stops the run before findings are replaced.
DETECTION_ERRORS = (duckdb.Error, ValueError, TypeError, KeyError, IndexError, OverflowError,
                    orjson.JSONDecodeError)


def interrupted(error):
    """True when an exception is how DuckDB reports Ctrl-C: InterruptException, or a
    RuntimeError "Query interrupted" from a result being fetched. Such an error stops the run
    (KeyboardInterrupt); it is never counted as a failed detection or chart."""
    return isinstance(error, duckdb.InterruptException) or (
        isinstance(error, RuntimeError) and "interrupted" in str(error).lower())


def run_detections(con, detections):
    """Runs each detection; one that fails is reported and the others still run."""
    outcomes = []
    for detection in detections:
        outcome = Outcome(detection)
        started = time.monotonic()
        try:
            outcome.findings = _finding_rows(con, detection)
        except (duckdb.InterruptException, RuntimeError) as error:
            # Ctrl-C inside a query reaches Python as a DuckDB error: it stops the run.
            if interrupted(error):
                raise KeyboardInterrupt from None
            raise
        except DETECTION_ERRORS as error:
            outcome.error = f"{type(error).__name__}: {common.first_line(error, '')}"
            print(f"{detection.id}: failed ({common.terminal_safe(outcome.error)}); the other detections still ran",
                  file=sys.stderr)
            if common.env_text("CLOUDTRAIL_DEBUG", ""):
                traceback.print_exc()
        outcome.seconds = time.monotonic() - started
        outcomes.append(outcome)
    return outcomes


def _split_select_list(text):
    """The items of a select list, split on the commas outside brackets and quotes."""
    items, depth, quote, current = [], 0, None, []
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def rule_columns(sql):
    """The output column names of a rule, read from its last top-level `select` (the line that
    starts with `select` at the left margin) up to the next `from` at the left margin."""
    text = re.sub(r"--[^\n]*", "", sql)
    starts = [m.end() for m in re.finditer(r"(?m)^select\b", text)]
    if not starts:
        raise ValueError("the rule has no `select` at the start of a line")
    body = text[starts[-1]:]
    end = re.search(r"(?m)^from\b", body)
    names = []
    for item in _split_select_list(body[:end.start()] if end else body):
        match = re.search(r"(?:\bas\s+|^(?:\w+\.)?)(\w+)$", item, re.IGNORECASE)
        names.append(match[1].lower() if match else item)
    return tuple(names)


def rule_query(detection, columns=None, keep=()):
    """The complete SQL the engine runs for a rules-package SQL rule: the rule, joined with the
    one `events` row of its triggering event_id (the earliest, ties broken by source file and
    load) for the shared columns, and with the events of event_ids for last_time. Returns the
    FINDING_COLUMNS in order (plus `keep`). columns: the rule's own output columns (read from
    the SQL when not given)."""
    columns = tuple(columns or rule_columns(detection.sql))
    missing = [name for name in RULE_REQUIRED if name not in columns]
    unknown = [name for name in columns if name not in RULE_REQUIRED + RULE_OPTIONAL + OVERRIDES + tuple(keep)]
    if missing or unknown:
        raise ValueError(f"rule returns {columns}: " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else []) +
            ([f"unexpected {', '.join(unknown)} (a rule returns {RULE_REQUIRED + RULE_OPTIONAL + OVERRIDES})"]
             if unknown else [])))
    event_ids = "coalesce(f.event_ids, [f.event_id])" if "event_ids" in columns else "[f.event_id]"
    picked = {name: (f"f.{name}" if name in columns else f"t.{name}") for name in OVERRIDES}
    optional = {name: (f"f.{name}" if name in columns else "null") for name in ("resource", "severity", "details")}
    extra = "".join(f",\n    f.{name}" for name in keep)
    body = detection.sql.strip().rstrip(";")
    return f"""with rule as (
{body}
),
finding as (
    select *, row_number() over (order by event_id) as finding_no
    from rule
),
behind as (
    select f.finding_no, unnest({event_ids}) as behind_id
    from finding as f
),
latest as (
    select b.finding_no, max(e.event_time) as last_time
    from behind as b
    join events as e on e.event_id = b.behind_id
    group by b.finding_no
),
candidates as (
    select
        f.finding_no,
        e.event_time, e.event_name, e.actor, e.source_ip,
        e.recipient_account_id as account_id, e.aws_region as region, e.error_code,
        row_number() over (partition by f.finding_no
                           order by e.event_time, e.source_file, e.load_id, e.event_name, e.actor,
                                    e.source_ip, e.aws_region, e.error_code) as pick
    from finding as f
    join events as e on e.event_id = f.event_id
),
triggering as (
    select * from candidates where pick = 1
)
select
    t.event_time,
    {picked['event_name']} as event_name,
    {optional['resource']} as resource,
    {picked['actor']} as actor,
    {picked['source_ip']} as source_ip,
    {picked['account_id']} as account_id,
    {picked['region']} as region,
    f.event_id,
    {picked['error_code']} as error_code,
    coalesce(l.last_time, t.event_time) as last_time,
    {event_ids} as event_ids,
    {optional['severity']} as severity,
    f.summary,
    {optional['details']} as details{extra}
from finding as f
left join triggering as t on t.finding_no = f.finding_no
left join latest as l on l.finding_no = f.finding_no
"""


def _finding_rows(con, detection):
    if detection.rule and detection.function:
        found = _python_rule_rows(con, detection)
    elif detection.sql and detection.rule:
        found = _sql_rule_rows(con, detection)
    elif detection.sql:
        found = _finding_table(con, detection.sql).to_pylist()
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
    rows.sort(key=lambda r: (r["event_time"] is None, r["event_time"] or 0, r["event_id"] or "",
                             r["summary"] or ""))
    return rows


def _finding_table(con, sql):
    # Through Arrow: fetchall() of nested details structs was several times slower
    # on detections with tens of thousands of findings.
    table = con.sql(sql).to_arrow_table()
    names = tuple(table.column_names)
    if names != FINDING_COLUMNS:
        raise ValueError(f"query returns columns {names}, expected {FINDING_COLUMNS}")
    return table


def _sql_rule_rows(con, detection):
    """A SQL rule: its own rows first, then the join that adds the shared columns (rule_query)
    over those rows. Run as one query, DuckDB cannot know how few rows the rule gives and
    built the join's hash table over all the events (about 0.5 CPU s per rule at 2M events,
    even for a rule that found nothing); a rule without rows needs no join at all."""
    rule_rows = con.sql(detection.sql).to_arrow_table()
    shell = dataclasses.replace(detection, sql="select * from sql_rule_rows")
    sql = rule_query(shell, rule_rows.column_names)          # checks the rule's columns, rows or not
    if rule_rows.num_rows == 0:
        return []
    con.register("sql_rule_rows", rule_rows)
    try:
        return _finding_table(con, sql).to_pylist()
    finally:
        con.unregister("sql_rule_rows")


def _python_rule_rows(con, detection):
    """A Python rule: its SQL gives the candidate rows, its function the findings (dicts with
    the rule columns); the shared columns are filled in by the same join as for SQL rules."""
    import inspect

    candidates = con.sql(detection.sql).to_arrow_table().to_pylist()
    takes_con = len(inspect.signature(detection.function).parameters) == 2
    produced = list(detection.function(con, candidates) if takes_con else detection.function(candidates))
    allowed = set(RULE_REQUIRED + RULE_OPTIONAL + OVERRIDES)
    for number, item in enumerate(produced):
        if not isinstance(item, dict) or any(key not in item for key in RULE_REQUIRED):
            raise ValueError(f"{detection.python} must yield dicts with {RULE_REQUIRED}, got {item!r:.200}")
        if set(item) - allowed:
            raise ValueError(f"{detection.python} yields unexpected keys {sorted(set(item) - allowed)}")
    if not produced:
        return []
    keys = pa.table({
        "event_id": pa.array([item["event_id"] for item in produced], pa.string()),
        "event_ids": pa.array([list(item.get("event_ids") or [item["event_id"]]) for item in produced],
                              pa.list_(pa.string())),
        "summary": pa.array([item["summary"] for item in produced], pa.string()),
        "python_row": pa.array(range(len(produced)), pa.int64()),
    })
    con.register("python_rule_rows", keys)
    try:
        shell = Detection(detection.id, detection.title, detection.severity, detection.mitre,
                          detection.description, detection.false_positives, detection.triage,
                          sql="select * from python_rule_rows", rule=True)
        table = con.sql(rule_query(shell, keys.column_names, keep=("python_row",))).to_arrow_table()
    finally:
        con.unregister("python_rule_rows")
    rows = []
    for row in table.to_pylist():
        item = produced[row.pop("python_row")]
        for name in ("resource", "severity", "details") + OVERRIDES:
            if name in item:
                row[name] = item[name]
        rows.append(row)
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
    """Replaces this detector's findings inside the run's window with this run's, in one transaction.

    A windowed run (SINCE and/or UNTIL) deletes only the detector's findings whose first_time
    lies inside [since, until): findings of other windows stay. A detection that failed keeps
    its earlier findings rather than silently losing them. Interrupted before the commit, the
    table is left as it was.
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
        con.execute("""
            delete from findings
            where detector = $detector
              and not list_contains($failed::varchar[], detection_id)
              and ($since::timestamptz is null or first_time >= $since::timestamptz)
              and ($until::timestamptz is null or first_time < $until::timestamptz)
        """, {"detector": detector, "failed": failed, "since": context.since, "until": context.until})
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
    if detection.status not in STATUSES:
        problems.append(f"status {detection.status!r} not in {STATUSES}")
    if not isinstance(detection.references, tuple) or not all(isinstance(r, str) and r for r in detection.references):
        problems.append("references must be a list of links")
    if detection.rule:
        if detection.path and Path(detection.path).stem != detection.id:
            problems.append(f"id {detection.id!r} differs from the file name {Path(detection.path).name}")
        if not detection.sql.strip():
            problems.append("the rule has no SQL")
        if detection.python and not callable(detection.function):
            problems.append(f"python: {detection.python} is not a function of the area module")
    elif bool(detection.sql) == bool(detection.find):
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
    setup_sql: str = ""      # views the detections share (rules/<area>/views.sql, filled in by rules.load_area)
    settings: tuple = ()     # Setting entries
    data_notes: Callable = None   # data_notes(con) -> notes that depend on the data in scope
    charts: tuple = ()       # chart(con, outcomes, folder, moment) -> [(caption, png path)], after the activity chart
    detections: tuple = ()   # Detection records (filled in by rules.load_area)


@dataclass
class AreaResult:
    """What one area's run produced (detections.run_area)."""
    area: str
    tool: str
    report: Path = None                                  # the markdown report
    charts: list = field(default_factory=list)           # PNG paths
    findings: int = 0
    detections: int = 0
    failed: list = field(default_factory=list)           # ids of the detections that failed
    events_in_scope: int = 0
    log: Path = None                                     # the analyst log the run appended to
    exit_code: int = 0                                   # 0 ran cleanly; 1 a detection failed
    window: str = ""                                     # the window, as the reports say it


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
    """A detector script not yet moved to the rules package: DATABASE [SINCE [UNTIL]] -> run_area
    with its Area, detections and chart functions; prints the result."""
    db_path, _, since, until = parse_detector_args(argv)
    area = dataclasses.replace(area, detections=tuple(detections), charts=tuple(extra_charts))
    return print_result(run_area(db_path, area, since, until, argv))


def area_main(argv, name):
    """The body of an analyze_<area>.py script: DATABASE [SINCE [UNTIL]] -> run_area, printed."""
    import rules

    db_path, _, since, until = parse_detector_args(argv)
    return print_result(run_area(db_path, rules.load_area(name), since, until, argv))


def run_area(db_path, area, since=None, until=None, argv=None):
    """The whole run of one area: its detections over the window, findings stored (replacing the
    area's earlier findings inside the window), report, charts, analyst log and the runs row.

    area: an Area (rules.load_area) or an area name. Returns an AreaResult; exit_code 1 when a
    detection failed. Raises common.ToolError (one line) when the run cannot be done - damaged
    database, output folder full or not writable - and KeyboardInterrupt when interrupted
    (the findings are then as they were unless the store had committed)."""
    if isinstance(area, str):
        import rules
        area = rules.load_area(area)
    argv = list(argv) if argv else [area.tool, str(db_path)] + [str(v) for v in (since, until) if v]
    started = common.now_utc()
    try:
        return _run_area(argv, area, str(db_path), since, until, started)
    except (duckdb.Error, RuntimeError) as error:
        if interrupted(error):
            raise KeyboardInterrupt from None
        if isinstance(error, duckdb.Error):
            raise common.database_error(db_path, error) from None
        raise


def _run_area(argv, area, db_path, since, until, started):
    import charts
    import reports
    import triage

    con, context = open_scope(db_path, since, until)
    try:
        if area.setup_sql:
            con.execute(area.setup_sql)
        applied = apply_settings(con, area.settings)
        outcomes = run_detections(con, area.detections)
        store_findings(con, area.name, context, outcomes)
        folder = common.output_dir(db_path)
        findings = [f for o in outcomes for f in o.findings]
        made, notes = [], list(area.notes)
        if area.data_notes:
            notes += list(area.data_notes(con))
        notes += [f"{s.meaning}: {setting_text(applied[s.variable])} (set {s.env} to change)" for s in area.settings]
        chart_jobs = [lambda: [(area.activity_title + " (findings marked)", charts.activity_chart(
            con, area.activity_sql, findings, area.activity_title,
            common.new_output_path(folder, f"{area.name}_activity", ".png", started)))]]
        chart_jobs += [lambda chart=chart: chart(con, outcomes, folder, started) for chart in area.charts]
        for job in chart_jobs:
            try:
                made += job()
            except CHART_ERRORS as error:
                if interrupted(error):
                    raise KeyboardInterrupt from None
                notes.append(f"A chart could not be drawn: {common.md_text(common.first_line(error))}")
        drawn = [(caption, path) for caption, path in made if path]
        report = reports.write_report(common.new_output_path(folder, f"{area.name}_report", ".md", started),
                                      area.title, area.tool, context, outcomes, made, notes,
                                      triage=triage.triage_summary(con, area.name))
        log = _log_run(argv, area, context, outcomes, report, drawn, started)
        failed = [o.detection.id for o in outcomes if o.error]
        exit_code = common.EXIT_RUNTIME if failed else common.EXIT_OK
        summary = orjson.dumps({"findings": len(findings), "failed_detections": failed}).decode()
        casedb.record_run(con, context.run_id, area.tool, " ".join(argv[1:]), started, common.now_utc(),
                          exit_code, summary)
    finally:
        con.close()
    return AreaResult(area.name, area.tool, report, [path for _, path in drawn], len(findings),
                      len(area.detections), failed, context.events_in_scope, log, exit_code,
                      common.describe_window(since, until))


def print_result(result):
    """Prints what a detector run wrote; returns its exit code."""
    print(f"{result.tool}: {result.findings} finding(s) from {result.detections} detections over "
          f"{result.events_in_scope:,} events ({result.window})")
    if result.failed:
        print(f"  {len(result.failed)} detection(s) failed: {', '.join(result.failed)} (see the report)")
    print(f"  report: {result.report}")
    for path in result.charts:
        print(f"  chart: {path}")
    print(f"  analyst log: {result.log}")
    return result.exit_code


def setting_text(value):
    """A threshold as the reports and README show it."""
    if isinstance(value, (list, tuple)):
        return ", ".join(value) if value else "none"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _log_run(argv, area, context, outcomes, report, drawn, started):
    from common import md_code, md_table
    findings = sorted((f | {"title": o.detection.title} for o in outcomes for f in o.findings),
                      key=lambda f: (severity_rank(f["severity"]),
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
