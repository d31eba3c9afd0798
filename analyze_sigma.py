"""Run Sigma rules you bring over a case database and store their hits as findings.

usage: analyze_sigma.py DATABASE RULE_OR_FOLDER [RULE_OR_FOLDER ...] [SINCE [UNTIL]]

  DATABASE        case database written by analyze_ingest.py
  RULE_OR_FOLDER  a Sigma rule file (.yml/.yaml), or a folder searched recursively for them;
                  rules must be for logsource product: aws, service: cloudtrail
  SINCE           first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL           last moment to look at (a date includes that whole day)

The last one or two arguments are SINCE and UNTIL when they read as ISO dates or times;
every other argument is a rule path (write ./2026-11-01 for a rule file named like a date).

Field names are CloudTrail's own dotted paths (userIdentity.arn, requestParameters.bucketName,
additionalEventData.MFAUsed); strings compare case-insensitively, as Sigma specifies.
A rule that cannot be converted (a correlation rule, an unsupported modifier, another log
source, invalid YAML) is named with the reason on stderr and in the report; the others run.

Writes findings to the database (detector 'sigma', replacing the earlier findings of the
rules that ran), a report sigma_report-YY-MM-DD-HH-MM.md, and an analyst log entry.
Exit status: 0 ran (also when some rules could not be converted), 1 a converted rule failed
while running or the database could not be used, 2 bad arguments, 130 interrupted.
Set CLOUDTRAIL_SIGMA_RULES (paths separated by ':') to have analyze_hunt.py run rules too.
"""
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson

import common
import sigma_rules
from common import UsageError

TOOL = "analyze_sigma.py"
DETECTOR = "sigma"
RULES_ENV = "CLOUDTRAIL_SIGMA_RULES"


@dataclass
class SigmaRun:
    """What run_sigma did, for the hunt: counts, the rules that failed, the outputs."""
    report: Path = None
    log: Path = None
    rules_run: int = 0
    findings: int = 0
    failed: list = field(default_factory=list)         # [(rule id, error)]
    not_converted: list = field(default_factory=list)  # [(file, reason)]
    events_in_scope: int = 0

    @property
    def exit_code(self):
        return common.EXIT_RUNTIME if self.failed else common.EXIT_OK


def parse_arguments(argv):
    """DATABASE RULE_OR_FOLDER... [SINCE [UNTIL]] -> (db, rule paths, since, until)."""
    arguments = argv[1:]
    if len(arguments) < 2:
        raise UsageError("expected DATABASE and at least one RULE_OR_FOLDER")
    db_path, rest = arguments[0], arguments[1:]
    window = []
    while rest and len(window) < 2 and _reads_as_time(rest[-1]):
        window.insert(0, rest.pop())
    if not rest:
        raise UsageError("expected at least one RULE_OR_FOLDER before SINCE/UNTIL")
    for path in rest:
        if _reads_as_time(path) and not Path(path).exists():
            raise UsageError(f"{path!r} reads as a date but comes before a rule path; SINCE and UNTIL go last")
        if not Path(path).exists():
            raise UsageError(f"rule file or folder {path!r} does not exist")
    since, until = common.parse_window(*window)
    return db_path, rest, since, until


def _reads_as_time(text):
    if not text or not text[:1].isdigit():
        return False
    try:
        common.parse_utc_time(text)
    except UsageError:
        return False
    return True


def rule_paths_from_env():
    """The rule files and folders named by CLOUDTRAIL_SIGMA_RULES (':'-separated; empty: none)."""
    raw = os.environ.get(RULES_ENV, "").strip()
    return [part for part in raw.split(os.pathsep) if part.strip()] if raw else []


def run_sigma(db_path, rule_paths, since, until, argv):
    """Loads the rules, runs them over the case, stores findings, writes the report and the
    analyst log. Returns a SigmaRun. Raises common.ToolError for a problem the analyst must fix
    (no rule files, database unusable). argv is recorded as the command in the log and runs."""
    files = []
    for path in rule_paths:
        found = sigma_rules.rule_files(path)
        if not found:
            raise common.ToolError(f"{path}: no .yml or .yaml files in this folder - give Sigma rule files or a folder holding them")
        files += found
    rules, not_converted = sigma_rules.load_rules(files)
    for name, reason in not_converted:
        print(f"{common.terminal_safe(name)}: not run - {common.terminal_safe(reason)}", file=sys.stderr)
    try:
        return _toolkit.run(db_path, rule_paths, rules, not_converted, since, until, argv)
    except duckdb.Error as error:
        raise common.ToolError(f"{db_path}: database error: {str(error).strip().splitlines()[0]}") from None


class _Toolkit:
    """The one place that uses the toolkit's detection machinery (detections.py, reports.py,
    casedb.py): a Sigma rule becomes a detections.Detection whose SQL returns
    detections.FINDING_COLUMNS, and the run stores and reports like every detector."""

    TRIAGE = ("Read the rule's description and false positives above, then the event: "
              "`select record from events where event_id = '<event id>'`.",
              "Check whether the actor and source IP are expected to make this call "
              "(analyze_actor.py DATABASE ACTOR shows the actor's other activity).",
              "If it is not expected, look for what the actor did before and after the event.")

    def detection(self, rule):
        import detections
        references = "; ".join(rule.references)
        description = rule.description + (f" (Sigma rule `{rule.id}`, status {rule.status or 'not given'}"
                                           f"{', by ' + rule.author if rule.author else ''}; file {rule.path}"
                                           f"{'; references: ' + references if references else ''})")
        return detections.Detection(
            id=rule.id, title=rule.title, severity=rule.severity, mitre=rule.mitre,
            description=description, false_positives=rule.false_positives, triage=self.TRIAGE,
            sql=finding_sql(rule))

    def run(self, db_path, rule_paths, rules, not_converted, since, until, argv):
        import casedb
        import detections
        import reports

        started = common.now_utc()
        con, context = detections.open_scope(db_path, since, until)
        try:
            outcomes = detections.run_detections(con, [self.detection(rule) for rule in rules])
            self._store(con, context, outcomes)
            folder = common.output_dir(db_path)
            notes = [f"Rules read from {', '.join(common.md_code(str(p)) for p in rule_paths)}: "
                     f"{len(rules)} converted and ran, {len(not_converted)} could not be converted."]
            notes += [f"Not run: {common.md_code(name)}: {common.md_text(reason)}" for name, reason in not_converted]
            notes.append("Strings compare case-insensitively (Sigma specification); field names are "
                         "CloudTrail's dotted paths read from each stored record (see README, "
                         "'Bringing your own Sigma rules').")
            report = reports.write_report(common.new_output_path(folder, f"{DETECTOR}_report", ".md", started),
                                          "Sigma rules", TOOL, context, outcomes, [], notes)
            result = SigmaRun(report=report, rules_run=len(rules),
                              findings=sum(len(o.findings) for o in outcomes),
                              failed=[(o.detection.id, o.error) for o in outcomes if o.error],
                              not_converted=list(not_converted), events_in_scope=context.events_in_scope)
            result.log = self._log(argv, context, outcomes, result, started)
            summary = orjson.dumps({"findings": result.findings, "failed_detections": [i for i, _ in result.failed],
                                           "not_converted": [n for n, _ in not_converted]}).decode()
            casedb.record_run(con, context.run_id, TOOL, " ".join(argv[1:]), started, common.now_utc(),
                              result.exit_code, summary)
        finally:
            con.close()
        return result

    def _store(self, con, context, outcomes):
        """detections.store_findings replaces every earlier finding of the detector; Sigma rules
        come and go between runs, so the findings of rules not in this run are kept (passed as
        'failed', which store_findings keeps)."""
        import detections
        ran = {o.detection.id for o in outcomes}
        earlier = [row[0] for row in con.execute(
            "select distinct detection_id from findings where detector = ? order by 1", [DETECTOR]).fetchall()]
        kept = [detections.Outcome(detections.Detection(i, "", "info", (), "", "", ()), error="not in this run")
                for i in earlier if i not in ran]
        detections.store_findings(con, DETECTOR, context, list(outcomes) + kept)

    def _log(self, argv, context, outcomes, result, started):
        from common import md_code, md_table
        findings = sorted((f | {"title": o.detection.title} for o in outcomes for f in o.findings),
                          key=lambda f: (["critical", "high", "medium", "low", "info"].index(f["severity"]),
                                         str(f["event_time"]), f["event_id"] or ""))
        lines = [f"Command: {md_code(' '.join([TOOL] + list(argv[1:])))}",
                 f"- window: {common.describe_window(context.since, context.until)}",
                 f"- events in scope: {context.events_in_scope:,}",
                 f"- Sigma rules: {len(outcomes)} ran, {sum(1 for o in outcomes if o.findings)} fired, "
                 f"{len(result.failed)} failed, {len(result.not_converted)} could not be converted",
                 f"- findings: {len(findings)}",
                 f"- report: {result.report.name}", ""]
        if result.not_converted:
            lines += ["Not run:", ""] + [f"- {md_code(name)}: {common.md_text(reason)}"
                                         for name, reason in result.not_converted] + [""]
        if findings:
            lines += ["Sample findings (most severe first):", ""]
            lines += md_table(["severity", "title", "time", "actor", "summary", "event id"],
                              [(f["severity"], f["title"], common.format_time(f["event_time"]), f["actor"],
                                f["summary"], f["event_id"]) for f in findings[:5]])
        return common.AnalystLog(context.db_path, started).write(TOOL, lines)


_toolkit = _Toolkit()

# The resource a finding names: the first of the request's usual resource names.
_RESOURCE_KEYS = ("bucketName", "userName", "roleName", "groupName", "policyArn", "functionName",
                  "instanceId", "groupId", "dBInstanceIdentifier", "dBClusterIdentifier", "name",
                  "trailName", "detectorId", "keyId", "snapshotId")


def finding_sql(rule):
    """The query that returns detections.FINDING_COLUMNS for every event the rule matches."""
    resource = "coalesce(" + ", ".join(f"e.request_parameters ->> '{key}'" for key in _RESOURCE_KEYS) + ")"
    title = sigma_rules._literal(rule.title)
    path = sigma_rules._literal(rule.path)
    return f"""
select
    e.event_time,
    e.event_name,
    {resource} as resource,
    e.actor,
    e.source_ip,
    e.recipient_account_id as account_id,
    e.aws_region as region,
    e.event_id,
    e.error_code,
    e.event_time as last_time,
    [e.event_id] as event_ids,
    null::varchar as severity,
    concat(coalesce(e.event_name, '?'), ' by ', coalesce(e.actor, '?'), ' matched Sigma rule ', {title}) as summary,
    {{'sigma_rule_file': {path}, 'event_source': e.event_source, 'user_agent': e.user_agent}} as details
from scoped_events e
where {rule.condition_sql}
order by e.event_time, e.event_id
"""


def _main(argv):
    db_path, rule_paths, since, until = parse_arguments(argv)
    result = run_sigma(db_path, rule_paths, since, until, argv)
    print(f"{TOOL}: {result.findings} finding(s) from {result.rules_run} Sigma rule(s) over "
          f"{result.events_in_scope:,} events ({common.describe_window(since, until)})")
    if result.not_converted:
        print(f"  {len(result.not_converted)} rule file(s) or rule(s) not run (see stderr and the report)")
    if result.failed:
        print(f"  {len(result.failed)} rule(s) failed: {', '.join(i for i, _ in result.failed)} (see the report)")
    print(f"  report: {result.report}")
    print(f"  analyst log: {result.log}")
    return result.exit_code


def main(argv):
    return common.run_cli(__doc__, argv, _main)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
