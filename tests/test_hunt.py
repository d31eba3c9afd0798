"""The hunt end to end: it runs every area in-process, links each report, tells the case as
ranked incidents with the findings outside them one line per fact, and reports a detector that
crashes while the others still run."""
import dataclasses
import re

import pytest

import analyze_hunt as hunt
import detections
import rules
from conftest import ACCOUNT, build_case, event, stored
from detections import Area, Detection

def fake_areas():
    """Areas for the failure test: one that works (an old-style detection with every column),
    one whose run crashes with a bug, one that stops with a database error, one that cannot load."""
    ok = Area(name="fakeok", title="Fake detector", tool="analyze_fakeok.py", activity_title="All events",
              activity_sql="""select date_trunc('minute', event_time) as minute, count(*) as succeeded,
                              0 as failed from scoped_events group by 1""",
              detections=(Detection(
                  id="trail_logging_stopped_fake", title="Trail stopped", severity="high", mitre=("T1562.008",),
                  description="Detects StopLogging.", false_positives="None.", triage=("Look.", "Act."),
                  sql="""select event_time, event_name, request_parameters->>'$.name' as resource, actor, source_ip,
                                recipient_account_id as account_id, aws_region as region, event_id, error_code,
                                event_time as last_time, [event_id] as event_ids, null as severity,
                                'trail stopped' as summary, null as details
                         from scoped_events where event_name = 'StopLogging'"""),))

    def crash(con, outcomes, folder, moment):
        raise ZeroDivisionError("detector bug")

    crashing = dataclasses.replace(ok, name="fakecrash", tool="analyze_fakecrash.py", detections=(), charts=(crash,))
    stopping = dataclasses.replace(ok, name="fakestop", tool="analyze_fakestop.py", detections=(),
                                   setup_sql="select * from no_such_table")

    def load(name):
        if name == "fakebroken":
            raise rules.RuleError("rules/fakebroken/x.sql: missing triage")
        return {"fakeok": ok, "fakecrash": crashing, "fakestop": stopping}[name]
    return load


def attack_records():
    """A root sign-in without MFA (critical), failed sign-ins by bob (low), and a trail stopped."""
    root = event("ConsoleLogin", "signin.amazonaws.com", "2026-11-02T10:00:00Z", "root", sourceIPAddress="203.0.113.5",
                 eventType="AwsConsoleSignIn", responseElements={"ConsoleLogin": "Success"},
                 additionalEventData={"MFAUsed": "No"})
    failures = [event("ConsoleLogin", "signin.amazonaws.com", f"2026-11-02T09:0{i}:00Z", identity={
        "type": "IAMUser", "principalId": "AIDABOB", "accountId": ACCOUNT, "userName": "bob"},
        sourceIPAddress="198.51.100.9", eventType="AwsConsoleSignIn", responseElements={"ConsoleLogin": "Failure"},
        errorMessage="Failed authentication", additionalEventData={"MFAUsed": "No"}) for i in range(2)]
    stopped = event("StopLogging", "cloudtrail.amazonaws.com", "2026-11-02T10:05:00Z", "root",
                    sourceIPAddress="203.0.113.5", requestParameters={"name": "main-trail"})
    return [root, *failures, stopped]


def links(text):
    return re.findall(r"\]\(([^)]+\.md)\)", text)


def test_runs_every_area_of_the_rules_package():
    assert hunt.AREAS == rules.AREAS
    assert "console_logins" in hunt.AREAS and "recon" in hunt.AREAS


def test_hunt_runs_all_detectors_links_reports_and_tells_the_case(tmp_path, capsys):
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 0
    reports = tmp_path / "reports"
    report = next(reports.glob("hunt_report-*.md"))
    text = report.read_text()
    for name in rules.AREAS:
        assert f"`{rules.load_area(name).tool}`" in text
        assert list(reports.glob(f"{name}_report-*.md")), name
    targets = links(text)
    assert targets and all((report.parent / target).is_file() for target in targets)
    assert any(t.startswith("console_logins_report-") for t in targets)
    # the incidents come first: root's sign-in without MFA and trail stop from one address is one
    # incident with its pivot command; bob's failed sign-ins stay outside, one line per fact
    story = text.split("## Incidents, most important first")[1].split("## Findings outside incidents")[0]
    assert re.search(r"^### 1\. root from 203\.0\.113\.5", story, re.M)
    assert f"analyze_actor.py {db} arn:aws:iam::{ACCOUNT}:root" in story
    assert "### Timeline of incident 1" in story
    outside = text.split("## Findings outside incidents")[1].split("## Coverage")[0]
    assert "bob" in outside
    assert text.index("## Incidents") < text.index("## Detectors")
    severity = text.split("## Findings by severity")[1].split("## Query these findings")[0]
    assert re.search(r"\| critical \| [1-9]", severity)
    printed = capsys.readouterr().out
    assert str(report) in printed and "console_logins_report-" in printed
    assert stored(db, "select count(*) from runs where tool = 'analyze_hunt.py'") == [(1,)]


def test_a_crashing_area_is_reported_the_others_still_run_and_the_exit_is_1(tmp_path, monkeypatch, capsys):
    real_run_area = detections.run_area

    def run_area(db_path, area, *args, **kwargs):
        if area.name == "console_logins":
            raise RuntimeError("simulated bug")
        return real_run_area(db_path, area, *args, **kwargs)
    monkeypatch.setattr(detections, "run_area", run_area)
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 1
    reports = tmp_path / "reports"
    text = next(reports.glob("hunt_report-*.md")).read_text()
    assert "crashed: RuntimeError: simulated bug" in text
    assert not list(reports.glob("console_logins_report-*.md"))
    others = [name for name in rules.AREAS if name != "console_logins"]
    for name in others:
        assert list(reports.glob(f"{name}_report-*.md")), name
    assert "analyze_console_logins.py crashed" in capsys.readouterr().err


def test_each_kind_of_failure_is_named_and_the_rest_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(hunt, "AREAS", ("fakeok", "fakecrash", "fakestop", "fakebroken"))
    monkeypatch.setattr(hunt, "load_area", fake_areas())
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 1
    text = next((tmp_path / "reports").glob("hunt_report-*.md")).read_text()
    detectors = text.split("## Detectors")[1].split("## Findings by severity")[0]
    assert "crashed: ZeroDivisionError: detector bug" in detectors
    assert "stopped: " in detectors and "database error" in detectors and "no\\_such\\_table" in detectors
    assert "could not be loaded: RuleError: rules/fakebroken/x.sql: missing triage" in detectors
    assert "**3 detector(s) did not finish" in detectors
    story = text.split("## Incidents, most important first")[1].split("## Detectors")[0]
    assert "Trail stopped (`trail_logging_stopped_fake`)" in story
    assert links(story) and all((tmp_path / "reports" / target).is_file() for target in links(story))
    assert "3 area(s) did not run" in capsys.readouterr().err


def test_a_failed_detection_makes_the_hunt_exit_1(tmp_path, monkeypatch):
    area = fake_areas()("fakeok")
    broken = dataclasses.replace(area.detections[0], id="trail_logging_stopped_broken",
                                 sql="select * from no_such_table")
    monkeypatch.setattr(hunt, "AREAS", ("fakeok",))
    monkeypatch.setattr(hunt, "load_area", lambda name: dataclasses.replace(area, detections=area.detections + (broken,)))
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 1
    text = next((tmp_path / "reports").glob("hunt_report-*.md")).read_text()
    assert "1 detection(s) failed: trail\\_logging\\_stopped\\_broken" in text


def test_ctrl_c_stops_the_hunt_with_130_and_runs_no_further_area(tmp_path, monkeypatch, capsys):
    ran = []
    real_run_area = detections.run_area

    def run_area(db_path, area, *args, **kwargs):
        ran.append(area.name)
        if area.name == "console_logins":
            raise KeyboardInterrupt
        return real_run_area(db_path, area, *args, **kwargs)
    monkeypatch.setattr(detections, "run_area", run_area)
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 130
    assert ran == ["console_logins"]
    assert capsys.readouterr().err.count("\n") == 1
    assert not list((tmp_path / "reports").glob("hunt_report-*.md"))


@pytest.mark.parametrize("window", [["yesterday"], ["2026-11-02", "not-a-date"], ["2026-11-03", "2026-11-01"]])
def test_bad_window_is_a_usage_error_and_runs_nothing(tmp_path, capsys, window):
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db), *window]) == 2
    assert "usage: analyze_hunt.py" in capsys.readouterr().err
    assert not list((tmp_path / "reports").glob("*_report-*.md"))


def test_missing_database_and_empty_window_are_runtime_errors(tmp_path, capsys):
    assert hunt.main(["analyze_hunt.py", str(tmp_path / "nope.db")]) == 1
    assert "no such database" in capsys.readouterr().err
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db), "2030-01-01"]) == 1
    assert "no events in" in capsys.readouterr().err
    assert not list((tmp_path / "reports").glob("*_report-*.md"))


def test_the_analysts_sigma_rules_run_in_the_hunt_when_set(tmp_path, monkeypatch, capsys):
    """Issue 16 item 5: CLOUDTRAIL_SIGMA_RULES names rules the hunt runs as one more detector."""
    rule = tmp_path / "sigma" / "stop_logging.yml"
    rule.parent.mkdir()
    rule.write_text("""title: Trail stopped (test rule)
id: 0f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b
status: test
description: Detects StopLogging.
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventSource: cloudtrail.amazonaws.com
        eventName: stoplogging
    condition: selection
falsepositives:
    - Maintenance
level: high
tags:
    - attack.t1562.008
""")
    monkeypatch.setattr(hunt, "AREAS", ("console_logins",))
    monkeypatch.setenv("CLOUDTRAIL_SIGMA_RULES", str(rule.parent))
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 0
    assert stored(db, "select detection_id, severity from findings where detector = 'sigma'") == [
        ("0f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", "high")]
    assert list((tmp_path / "reports").glob("sigma_report-*.md"))
    assert "analyze_sigma.py: 1 finding(s)" in capsys.readouterr().out


def test_no_sigma_run_without_the_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(hunt, "AREAS", ("console_logins",))
    monkeypatch.delenv("CLOUDTRAIL_SIGMA_RULES", raising=False)
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 0
    assert stored(db, "select count(*) from findings where detector = 'sigma'") == [(0,)]
