"""Record what you decided about findings: verdicts and an allowlist of known-good sources, kept
in the case database so they survive reruns of the detectors and new ingests.

usage: analyze_triage.py DATABASE verdict FINDING_OR_INCIDENT VERDICT NOTE
       analyze_triage.py DATABASE allow KIND VALUE REASON [DETECTION_ID] [SINCE [UNTIL]]
       analyze_triage.py DATABASE list
       analyze_triage.py DATABASE remove ID

  verdict  records VERDICT (confirmed, benign, false_positive or needs_review) with a NOTE on
           FINDING_OR_INCIDENT, one of:
             DETECTION_ID:EVENT_ID            one finding (the detection and its triggering
                                              event, as the reports and the findings table show)
             EVENT_ID                         every current finding that event triggered
             incident:DETECTION_ID:EVENT_ID   an incident, named by its earliest finding
           A later verdict on the same finding replaces the earlier one (both are kept).
  allow    adds an allowlist entry. KIND and VALUE:
             principal   an ARN, user name, role name, role ARN (every session of the role) or principal id
             key         an access key id (AKIA... or ASIA...)
             ip          one IPv4 or IPv6 address
             cidr        an address range, e.g. 203.0.113.0/24
             user_agent  a pattern matched against the whole user agent, ignoring case; * is any
                         text (e.g. 'Terraform/*', '*ansible*')
           DETECTION_ID limits the entry to one detection ('any' for all, when SINCE follows);
           SINCE and UNTIL limit it to findings starting in that span (ISO dates or times in
           UTC; a date as UNTIL covers that whole day).
           A finding that matches an entry is kept, marked with the entry's id and listed last
           in the reports, never dropped.
  list     shows the verdicts and allowlist entries in force, with the findings each matches now
  remove   withdraws verdict or allowlist entry ID (ids are shared, so ID names one of them);
           the row is kept, marked removed

Who recorded it is $CLOUDTRAIL_ANALYST, else the login name; times are UTC. Every change is
written to the analyst log. Each detector report, the hunt report and the actor report show the
verdicts and what the allowlist matched.

examples:
  analyze_triage.py cases.db verdict console_login_without_mfa:4c1f...e2 benign "owner's lab account"
  analyze_triage.py cases.db allow cidr 203.0.113.0/24 "office egress"
  analyze_triage.py cases.db allow principal arn:aws:iam::111122223333:role/Deployer "CI pipeline" any 2026-11-01
"""
import sys

import duckdb

import casedb
import common
import triage
from common import UsageError, md_code


def run(argv):
    if len(argv) < 3:
        raise UsageError("expected DATABASE and one of verdict, allow, list, remove")
    db_path, command, rest = argv[1], argv[2], argv[3:]
    if command not in ("verdict", "allow", "list", "remove"):
        raise UsageError(f"unknown command {command!r}: use verdict, allow, list or remove")
    expected = {"verdict": (3, 3), "allow": (3, 6), "list": (0, 0), "remove": (1, 1)}[command]
    if not expected[0] <= len(rest) <= expected[1]:
        raise UsageError(f"wrong number of arguments for {command}")
    con = casedb.open_case(db_path)
    try:
        triage.ensure_schema(con)
        if command == "list":
            return _list(con)
        lines = [f"Command: {md_code(' '.join(['analyze_triage.py'] + argv[1:]), None)}"]
        if command == "verdict":
            target, verdict, note = rest
            for verdict_id, detection_id, event_id in triage.record_verdict(con, target, verdict, note):
                said = f"verdict {verdict_id}: {verdict} on {detection_id}:{event_id}"
                print(said)
                lines.append(f"- {said}")
        elif command == "allow":
            entry_id = _allow(con, rest)
            row = casedb.one(con, "select kind, value, reason, detection_id, since, until from allowlist where entry_id = ?",
                             [entry_id])
            summary = triage.triage_summary(con)
            matched = next((n for i, _, n in summary["entries"] if i == entry_id), 0)
            said = f"allowlist entry {entry_id}: {triage.entry_label(*row)} (matches {matched} current finding(s))"
            print(said)
            lines.append(f"- {said}")
        else:
            entry_id = _number(rest[0])
            what = triage.remove(con, entry_id)
            said = f"removed {what} {entry_id}"
            print(said)
            lines.append(f"- {said}")
        common.AnalystLog(db_path).write("analyze_triage.py", lines)
    except duckdb.Error as error:
        raise common.ToolError(f"{db_path}: database error: {str(error).strip().splitlines()[0]}") from None
    finally:
        con.close()
    return common.EXIT_OK


def _number(text):
    if not text.isdigit():
        raise UsageError(f"ID must be a number (see analyze_triage.py DATABASE list), not {text!r}")
    return int(text)


def _allow(con, rest):
    kind, value, reason, *limits = rest
    detection_id = None
    if limits and not limits[0][:1].isdigit():
        detection_id = None if limits[0] in ("any", "-", "") else limits[0]
        limits = limits[1:]
    if len(limits) > 2:
        raise UsageError("expected at most SINCE and UNTIL after DETECTION_ID")
    since, until = common.parse_window(*limits)
    return triage.add_allow_entry(con, kind, value, reason, detection_id, since, until)


def _list(con):
    summary = triage.triage_summary(con)
    verdicts = casedb.rows(con, """
        select v.verdict_id, v.target_kind, v.detection_id, v.event_id, v.verdict, v.note, v.analyst, v.recorded_at,
               exists (select 1 from findings as f where f.detection_id = v.detection_id and f.event_id = v.event_id)
        from verdicts as v
        where v.removed_at is null
        order by v.recorded_at, v.verdict_id""")
    print(f"Verdicts ({len(verdicts)}):")
    for verdict_id, kind, detection_id, event_id, verdict, note, who, when, present in verdicts:
        target = ("incident:" if kind == "incident" else "") + f"{detection_id}:{event_id}"
        state = "" if present else "  (no current finding: the detector no longer reports it)"
        print(common.terminal_safe(f"  {verdict_id}  {verdict:<14} {target}  {common.format_time(when)} by {who}: {note}{state}"))
    print(f"\nAllowlist entries ({len(summary['entries'])}):")
    for entry_id, label, matched in summary["entries"]:
        print(common.terminal_safe(f"  {entry_id}  {label}  (matches {matched} current finding(s))"))
    if summary["lines"]:
        print("\nNow: " + "; ".join(summary["lines"]))
    return common.EXIT_OK


def main(argv):
    return common.run_cli(__doc__, argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
