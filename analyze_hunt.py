"""Run every detector, then write the case summary: the incidents (findings grouped into the
attacks they belong to, most important first, each told as a short story with its timeline),
the findings outside incidents (one line per fact), and what the logs cannot show.

usage: analyze_hunt.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Every detection area (rules.AREAS: console sign-ins, IAM, security groups, defense evasion,
reconnaissance, exfiltration, impact, compute, identity) is run in this process with the same DATABASE, SINCE and
UNTIL, so each writes its own report and charts, as its analyze_<area>.py script would. An area
that cannot run is named in the summary and the others still run. Before the areas the identity
lineage is rebuilt (table identity_lineage: who is behind every access key); after them the
findings are grouped into ranked incidents (tables incidents, incident_events and
findings.incident_id). Then hunt_report-YY-MM-DD-HH-MM.md is written, an analyst log entry
appended, and the path of every report printed.

settings: the CLOUDTRAIL_INCIDENT_* variables (grouping and ranking weights), see README.md;
  CLOUDTRAIL_SIGMA_RULES  Sigma rule files or folders (':'-separated) the hunt also runs, as
                          analyze_sigma.py would, after the areas

Exit status 0 when every area and detection ran, 1 when any area or detection failed (the
summary names them) or for a runtime problem, 2 for bad arguments, 130 when interrupted
(Ctrl-C stops the whole hunt; findings of the area being run stay as they were).
"""
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson

import analyze_sigma
import casedb
import common
import detections
import incidents
import ipcontext
import lineage
import reports
import rules
import triage
from common import Markdown, format_time, md_code, md_table, md_text

AREAS = rules.AREAS
SEVERITIES = tuple(reversed(detections.SEVERITIES))        # most severe first

# Only this hunt's findings: a detector that crashed, or a detection that failed, keeps its
# earlier findings in the table, and those were not found by this run.
SEVERITY_SQL = """
select
    severity,
    count(*) as findings,
    count(*) filter (where error_code is not null) as attempts,
    count(distinct actor) as actors,
    list(distinct detection_id order by detection_id) as detection_ids
from findings
where found_at >= $started
  and list_contains($detectors::varchar[], detector)
group by severity
"""

PER_DETECTOR_SQL = """
select detector, count(*)
from findings
where found_at >= $started
  and list_contains($detectors::varchar[], detector)
group by detector
"""



@dataclass
class DetectorRun:
    """One area in this hunt: what it is, and what became of its run."""
    area: str
    script: str = ""
    problem: str = ""                                   # why it did not run (cleanly)
    result: detections.AreaResult = None
    reports: list = field(default_factory=list)         # report files it wrote in this run
    failed_detections: list = field(default_factory=list)


def load_area(name):
    return rules.load_area(name)


def run_one(run, db_path, since, until, argv):
    """Runs one area in this process; an area that cannot run is recorded, not raised.
    KeyboardInterrupt is not caught: it stops the hunt."""
    try:
        area = load_area(run.area)
    # A rule file or an area module being edited may fail on load in any way; it is named.
    except Exception as error:  # noqa: BLE001
        run.problem = f"could not be loaded: {_one_line(error)}"
        print(f"analyze_hunt.py: area {run.area} could not be loaded ({common.terminal_safe(_one_line(error))}); "
              "the other areas still run", file=sys.stderr)
        return
    run.script = area.tool
    try:
        run.result = detections.run_area(db_path, area, since, until, [area.tool] + list(argv[1:]))
    except common.ToolError as error:
        run.problem = f"stopped: {_without_case_path(error, db_path)}"
        print(f"analyze_hunt.py: {area.tool} stopped ({common.terminal_safe(str(error))}); the other areas still run",
              file=sys.stderr)
        return
    # One failing area never stops the rest, whatever it raised (but Ctrl-C stops the hunt).
    except Exception as error:  # noqa: BLE001
        if detections.interrupted(error):
            raise KeyboardInterrupt from None
        run.problem = f"crashed: {_one_line(error)}"
        print(f"analyze_hunt.py: {area.tool} crashed ({common.terminal_safe(_one_line(error))}); "
              "the other areas still run", file=sys.stderr)
        if common.env_text("CLOUDTRAIL_DEBUG", ""):
            traceback.print_exc()
        return
    run.reports = [run.result.report]
    run.failed_detections = list(run.result.failed)


def _without_case_path(error, db_path):
    """An error's text without the case database's path in front: the report is about that
    database, and a long path would push the reason out of the report's one-line cell."""
    text = str(error)
    prefix = f"{db_path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def run_sigma(db_path, paths, since, until, argv):
    """The analyst's Sigma rules (CLOUDTRAIL_SIGMA_RULES) as one more detector of the hunt."""
    run = DetectorRun("sigma", script="analyze_sigma.py")
    try:
        result = analyze_sigma.run_sigma(db_path, paths, since, until, ["analyze_sigma.py"] + list(argv[1:]))
    except common.ToolError as error:
        run.problem = f"stopped: {_without_case_path(error, db_path)}"
        print(f"analyze_hunt.py: analyze_sigma.py stopped ({common.terminal_safe(str(error))}); "
              "the areas' findings are kept", file=sys.stderr)
        return run
    run.reports = [result.report] if result.report else []
    run.failed_detections = [rule_id for rule_id, _ in result.failed]
    return run


def _one_line(error):
    return f"{type(error).__name__}: {common.first_line(error, '')}".rstrip(": ")


def run(argv):
    db_path, _, since, until = detections.parse_detector_args(argv)
    started = common.now_utc()
    try:
        con, context = detections.open_scope(db_path, since, until)
        con.close()
    except duckdb.Error as error:
        raise common.database_error(db_path, error) from None
    if not context.events_in_scope:
        raise common.ToolError(f"{db_path}: no events in {common.describe_window(since, until)} - check SINCE/UNTIL, "
                               "or load logs with analyze_ingest.py")
    folder = common.output_dir(db_path)
    timings = {"lineage": _build_lineage(db_path)}
    runs = [DetectorRun(name) for name in AREAS]
    for area_run in runs:
        run_one(area_run, db_path, since, until, argv)
    sigma_paths = analyze_sigma.rule_paths_from_env()
    if sigma_paths:
        runs.append(run_sigma(db_path, sigma_paths, since, until, argv))
    try:
        return _summarise(argv, context, runs, folder, started, timings)
    except duckdb.Error as error:
        raise common.database_error(db_path, error) from None


def _build_lineage(db_path):
    """identity_lineage from all the events (the identity area and the incidents read it); seconds."""
    con = casedb.open_case(db_path)
    try:
        return lineage.build(con, db_path)[1]
    except duckdb.Error as error:
        if detections.interrupted(error):
            raise KeyboardInterrupt from None
        raise common.database_error(db_path, error) from None
    finally:
        con.close()


def _summarise(argv, context, runs, folder, started, timings):
    ran = [r for r in runs if not r.problem]
    params = {"started": started, "detectors": [r.area for r in ran]}
    con = casedb.open_case(context.db_path)
    try:
        triaged = triage.triage_summary(con)
        sources = ipcontext.refresh(con, context.db_path)
        sources.close()
        triaged["ip_context"] = (ipcontext.labels(con), sources.describe())
        per_detector = dict(casedb.rows(con, PER_DETECTOR_SQL, params))
        severities = {row[0]: row[1:] for row in casedb.rows(con, SEVERITY_SQL, params)}
        made, timings["incidents"] = incidents.build(con)
        path = common.new_output_path(folder, "hunt_report", ".md", started)
        summary = incidents.case_summary(con, context.db_path, since=started,
                                         report_links=_report_links(runs, path), marks=triaged.get("marks"))
        top = casedb.rows(con, "select rank, score, title from incidents order by rank limit 5")
        lines = _report(context, runs, per_detector, severities, summary, path, started, timings, triaged)
        common.write_markdown(path, lines)
        total = sum(per_detector.values())
        failed = any(r.problem or r.failed_detections for r in runs)
        exit_code = common.EXIT_RUNTIME if failed else common.EXIT_OK
        casedb.record_run(con, context.run_id, "analyze_hunt.py", " ".join(argv[1:]), started, common.now_utc(),
                          exit_code,
                          orjson.dumps({"findings": total, "detectors": len(runs), "incidents": made,
                                        "seconds": {k: round(v, 2) for k, v in timings.items()},
                                        "problems": [r.area for r in runs if r.problem],
                                        "failed_detections": [d for r in runs for d in r.failed_detections]}).decode())
    finally:
        con.close()
    log = _log(argv, context, runs, severities, top, path, started)
    print(f"analyze_hunt.py: {len(runs)} detector(s), {total} finding(s), {made} incident(s) "
          f"({common.describe_window(context.since, context.until)})")
    for r in runs:
        state = f"  {r.script or r.area}: " + (
            common.terminal_safe(r.problem) if r.problem else f"{per_detector.get(r.area, 0)} finding(s)"
            + (f"; {len(r.failed_detections)} detection(s) failed: {', '.join(r.failed_detections)}"
               if r.failed_detections else ""))
        print(state + "".join(f"\n    report: {report}" for report in r.reports))
    print(f"  hunt report: {path}")
    print(f"  analyst log: {log}")
    if exit_code:
        print(f"analyze_hunt.py: {sum(1 for r in runs if r.problem)} area(s) did not run and "
              f"{sum(len(r.failed_detections) for r in runs)} detection(s) failed - see the hunt report",
              file=sys.stderr)
    return exit_code


def _report_links(runs, path):
    """{area name: markdown link to its report in this hunt}."""
    return {r.area: _link(r.reports[-1], path) for r in runs if r.reports}


def _report(context, runs, per_detector, severities, summary, path, started, timings, triaged=None):
    span = (f"{format_time(context.first_event)} to {format_time(context.last_event)}"
            if context.first_event else "no events")
    lines = ["# Hunt report", "",
             f"Written {format_time(common.now_utc())} by `analyze_hunt.py` (run `{context.run_id}`). "
             "All times are UTC.", "",
             "Every detector was run over the same window. This page tells the case: the incidents first, "
             "most important first (each a few sentences, the reasons for its rank and its timeline), then the "
             "findings outside incidents, one line per fact, and what these logs cannot show. Each detector's "
             "own report explains its detections, their false positives and triage steps.", ""]
    lines += ["## What was analysed", ""] + md_table(["", ""], [
        ("database", Markdown(md_code(context.db_path))),
        ("window", common.describe_window(context.since, context.until)),
        ("events in scope", f"{context.events_in_scope:,} ({span})"),
        ("accounts", Markdown(reports.summarise_list([f"{a or '(none)'} ({n:,})" for a, n in context.accounts],
                                                     "accounts", md_text))),
        ("regions", Markdown(reports.summarise_list([f"{r or '(none)'} ({n:,})" for r, n in context.regions],
                                                    "regions", md_text))),
        ("lineage and incidents", f"built in {timings.get('lineage', 0):.1f} s and {timings.get('incidents', 0):.1f} s"),
    ]) + [""]
    lines += summary
    lines += _detectors_section(runs, per_detector, path)
    lines += _severity_section(severities)
    lines += reports.triage_section(triaged)
    _, ip_note = (triaged or {}).get("ip_context", ({}, ""))
    if ip_note:
        lines += ["## IP context", "", md_text(ip_note), ""]
    lines += ["## Query these findings", "", "```sql",
              "select severity, title, first_time, actor, source_ip, resource, summary, incident_id",
              "from findings",
              f"where found_at >= timestamptz '{started.isoformat()}'",
              f"order by {detections.SEVERITY_RANK_SQL}, first_time;",
              "select rank, score, title, reasons from incidents order by rank;",
              "```", ""]
    return lines


def _link(report, hunt_report):
    relative = Path(os.path.relpath(report, hunt_report.parent)).as_posix()
    return f"[{report.name}]({relative})"


def _detectors_section(runs, per_detector, path):
    lines = ["## Detectors", ""]
    rows = []
    for r in runs:
        if r.problem:
            result = r.problem
        elif r.failed_detections:
            result = f"ran; {len(r.failed_detections)} detection(s) failed: {', '.join(r.failed_detections)}"
        else:
            result = "ran"
        report = Markdown(", ".join(_link(p, path) for p in r.reports)) if r.reports else "no report"
        rows.append((r.area, Markdown(md_code(r.script or f"analyze_{r.area}.py")), result, per_detector.get(r.area, 0) if not r.problem else "-",
                     report))
    lines += md_table(["detector", "script", "result", "findings", "report"], rows)
    broken = [r for r in runs if r.problem]
    if broken:
        lines += ["", f"**{len(broken)} detector(s) did not finish: {', '.join(r.script or r.area for r in broken)}.** "
                  "Their findings are missing from this summary (findings they stored in earlier runs are still in "
                  "the database but are not counted here). Set CLOUDTRAIL_DEBUG=1 for a traceback."]
    return lines + [""]


def _severity_section(severities):
    lines = ["## Findings by severity", ""]
    rows, lists = [], []
    for severity in SEVERITIES:
        count, attempts, actors, detection_ids = severities.get(severity, (0, 0, 0, []))
        rows.append((severity, count, attempts, actors, Markdown(reports.summarise_list(detection_ids, "detections"))))
        if detection_ids:
            lists.append(f"- {severity} ({len(detection_ids)}): " + ", ".join(md_code(d) for d in detection_ids))
    lines += md_table(["severity", "findings", "of which failed attempts", "actors", "detections"], rows)
    lines += ["", "A failed attempt (an AccessDenied call, a failed sign-in) is evidence of intent; it is "
              "listed with result `failed` next to the calls that succeeded.", ""]
    if lists:
        lines += ["Every detection that fired, by severity:", ""] + lists + [""]
    return lines


def _log(argv, context, runs, severities, top, path, started):
    lines = [f"Command: {md_code(' '.join(['analyze_hunt.py'] + argv[1:]))}",
             f"- window: {common.describe_window(context.since, context.until)}",
             f"- detectors: {len(runs)}; did not finish: {', '.join(r.script or r.area for r in runs if r.problem) or 'none'}",
             f"- findings: {', '.join(f'{s} {severities[s][0]}' for s in SEVERITIES if s in severities) or 'none'}",
             f"- report: {path.name}" + "".join(f"; {p.name}" for r in runs for p in r.reports), ""]
    if top:
        lines += ["Incidents, most important first:", ""]
        lines += md_table(["rank", "score", "incident"], top)
    return common.AnalystLog(context.db_path, started).write("analyze_hunt.py", lines)


def main(argv):
    return common.run_cli(__doc__, argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
