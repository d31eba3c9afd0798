"""The hunt end to end: it finds and runs every detector, links each report, groups findings by
actor (most severe first), and reports a detector that crashes while the others still run."""
import re
import sys
import textwrap

import pytest

import analyze_console_logins
import analyze_hunt as hunt
from conftest import ACCOUNT, REPO, build_case, event, stored

FAKE_OK = '''
    """usage: analyze_fakeok.py DATABASE [SINCE [UNTIL]]"""
    import common
    import detections
    from detections import Area, Detection

    AREA = Area(name="fakeok", title="Fake detector", tool="analyze_fakeok.py", activity_title="All events",
                activity_sql="""select date_trunc('minute', event_time) as minute, count(*) as succeeded,
                                0 as failed from scoped_events group by 1""")
    DETECTIONS = [Detection(
        id="trail_logging_stopped_fake", title="Trail stopped", severity="high", mitre=("T1562.008",),
        description="Detects StopLogging.", false_positives="None.", triage=("Look.", "Act."),
        sql="""select event_time, event_name, request_parameters->>'$.name' as resource, actor, source_ip,
                      recipient_account_id as account_id, aws_region as region, event_id, error_code,
                      event_time as last_time, [event_id] as event_ids, null as severity,
                      'trail stopped' as summary, null as details
               from scoped_events where event_name = 'StopLogging'""")]


    def main(argv):
        return common.run_cli(__doc__, argv, lambda args: detections.run_detector(args, AREA, DETECTIONS))
'''

FAKE_CRASH = '''
    import detections

    AREA = detections.Area(name="fakecrash", title="Crash", tool="analyze_fakecrash.py", activity_sql="select 1",
                           activity_title="x")
    DETECTIONS = []


    def main(argv):
        raise RuntimeError("detector bug")
'''

FAKE_STOP = '''
    import sys

    import detections

    AREA = detections.Area(name="fakestop", title="Stop", tool="analyze_fakestop.py", activity_sql="select 1",
                           activity_title="x")
    DETECTIONS = []


    def main(argv):
        print("analyze_fakestop.py: cases.db: database error: out of memory", file=sys.stderr)
        return 1
'''

FAKE_HELPER = '''
    """Not a detector: no DETECTIONS."""
    AREA = None
'''


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


def test_discovers_every_detector_and_nothing_else():
    names = {run.script for run in hunt.discover_detectors(REPO)}
    expected = {path.name for path in REPO.glob("analyze_*.py")
                if re.search(r"^DETECTIONS\s*=", path.read_text(), re.M) and re.search(r"^AREA\s*=", path.read_text(), re.M)}
    assert "analyze_console_logins.py" in names
    assert names == expected
    assert not names & {"analyze_ingest.py", "analyze_overview.py", "analyze_actor.py", "analyze_hunt.py"}


def test_hunt_runs_all_detectors_links_reports_and_groups_by_actor(tmp_path, capsys):
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 0
    reports = tmp_path / "reports"
    report = next(reports.glob("hunt_report-*.md"))
    text = report.read_text()
    for run in hunt.discover_detectors(REPO):
        assert f"`{run.script}`" in text
        assert list(reports.glob(f"{run.area}_report-*.md")), run.script
    targets = links(text)
    assert targets and all((report.parent / target).is_file() for target in targets)
    assert any(t.startswith("console_logins_report-") for t in targets)
    # the root actor (critical) comes before bob (low), and each has its pivot command
    actors = re.findall(r"^### \d+\. `([^`]+)`", text, re.M)
    assert actors.index(f"arn:aws:iam::{ACCOUNT}:root") < actors.index("bob")
    assert f"analyze_actor.py {db} arn:aws:iam::{ACCOUNT}:root" in text
    severity = text.split("## Findings by severity")[1].split("## Findings by actor")[0]
    assert re.search(r"\| critical \| [1-9]", severity)
    printed = capsys.readouterr().out
    assert str(report) in printed and "console_logins_report-" in printed
    assert stored(db, "select count(*) from runs where tool = 'analyze_hunt.py'") == [(1,)]


def test_a_crashing_detector_is_reported_and_the_others_still_run(tmp_path, monkeypatch, capsys):
    def boom(argv):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(analyze_console_logins, "main", boom)
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 0
    reports = tmp_path / "reports"
    text = next(reports.glob("hunt_report-*.md")).read_text()
    assert "crashed: RuntimeError: simulated bug" in text
    assert not list(reports.glob("console_logins_report-*.md"))
    others = [run for run in hunt.discover_detectors(REPO) if run.area != "console_logins"]
    assert others, "needs a second detector to show the rest still run"
    for run in others:
        assert list(reports.glob(f"{run.area}_report-*.md")), run.script
    assert "analyze_console_logins.py crashed" in capsys.readouterr().err


def test_each_kind_of_failure_is_named_and_the_rest_run(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "detectors"
    folder.mkdir()
    for name, source in {"fakeok": FAKE_OK, "fakecrash": FAKE_CRASH, "fakestop": FAKE_STOP,
                         "fakehelper": FAKE_HELPER, "fakebroken": "def broken(:\n"}.items():
        (folder / f"analyze_{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(hunt, "DETECTOR_FOLDER", folder)
    for name in ("fakeok", "fakecrash", "fakestop", "fakehelper", "fakebroken"):
        monkeypatch.delitem(sys.modules, f"analyze_{name}", raising=False)
    db = build_case(tmp_path, attack_records())
    assert hunt.main(["analyze_hunt.py", str(db)]) == 0
    text = next((tmp_path / "reports").glob("hunt_report-*.md")).read_text()
    detectors = text.split("## Detectors")[1].split("## Findings by severity")[0]
    assert "analyze_fakehelper.py" not in detectors
    assert "crashed: RuntimeError: detector bug" in detectors
    assert "stopped with exit status 1: analyze\\_fakestop.py: cases.db: database error: out of memory" in detectors
    assert "could not be loaded: SyntaxError" in detectors
    assert "**3 detector(s) did not finish" in detectors
    by_actor = text.split("## Findings by actor")[1]
    assert "Trail stopped (`trail_logging_stopped_fake`)" in by_actor
    assert all((tmp_path / "reports" / target).is_file() for target in links(by_actor))
    for name in ("fakeok", "fakecrash", "fakestop", "fakehelper", "fakebroken"):
        sys.modules.pop(f"analyze_{name}", None)


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
