"""Triage state: verdicts and allowlist entries survive a rerun of every detector and a new
ingest; matching findings are kept, marked and listed last; the command line checks its input."""
import pytest

import analyze_console_logins
import analyze_defense_evasion
import analyze_hunt
import analyze_triage
import casedb
import triage
from conftest import ACCOUNT, build_case, event, ingest, stored, write_log_file
from test_console_logins import sign_in

CT = "cloudtrail.amazonaws.com"


def run_triage(db, *args):
    return analyze_triage.main(["analyze_triage.py", str(db), *args])


def hunt(db):
    assert analyze_hunt.main(["analyze_hunt.py", str(db)]) == 0


def run_two_detectors(db):
    """The two detectors this case's findings come from (the hunt runs all six: slower)."""
    for module in (analyze_console_logins, analyze_defense_evasion):
        assert module.main([f"{module.__name__}.py", str(db)]) == 0


def latest(folder, pattern):
    """The newest report (names within one minute end -2, -3: not in time order as text)."""
    return max(folder.glob(pattern), key=lambda p: p.stat().st_mtime_ns).read_text()


def triaged(db, detection_id=None):
    con = casedb.open_case(str(db))
    try:
        triage.apply_triage(con)
        return casedb.rows(con, """
            select detection_id, event_id, verdict, verdict_by, allowlisted_by, ranked_down
            from findings_triaged
            where $d is null or detection_id = $d
            order by detection_id, event_id""", {"d": detection_id})
    finally:
        con.close()


@pytest.fixture
def case(tmp_path):
    """A root sign-in without MFA (the owner's lab) and a StopLogging from the office range."""
    root = sign_in("root", mfa="No", ip="192.0.2.10")
    stop = event("StopLogging", CT, "2026-11-02T11:00:00Z", requestParameters={"name": "main"},
                 sourceIPAddress="203.0.113.40")
    return build_case(tmp_path, [root, stop]), root, stop


def test_verdict_and_allowlist_survive_every_detector_rerun_and_a_new_ingest(tmp_path, case, monkeypatch, capsys):
    db, root, stop = case
    monkeypatch.setenv("CLOUDTRAIL_ANALYST", "tester")
    hunt(db)
    assert run_triage(db, "verdict", f"root_console_login_succeeded:{root['eventID']}", "benign", "owner's lab") == 0
    assert run_triage(db, "allow", "cidr", "203.0.113.0/24", "office egress") == 0
    assert "matches 1 current finding" in capsys.readouterr().out

    # A new day of logs: another StopLogging from the office range, and one from elsewhere.
    later_office = event("StopLogging", CT, "2026-11-03T09:00:00Z", requestParameters={"name": "main"},
                         sourceIPAddress="203.0.113.99")
    outside = event("StopLogging", CT, "2026-11-03T09:30:00Z", requestParameters={"name": "main"},
                    sourceIPAddress="198.51.100.200")
    write_log_file(tmp_path / "day2", [later_office, outside], name="day2.json.gz")
    assert ingest(db, tmp_path / "day2") == 0
    hunt(db)   # every detector replaces its findings

    rows = triaged(db)
    root_rows = [r for r in rows if r[0] == "root_console_login_succeeded"]
    assert root_rows == [("root_console_login_succeeded", root["eventID"], "benign", "tester", [], True)]
    stopped = {r[1]: r for r in rows if r[0] == "cloudtrail_logging_stopped"}
    assert stopped[stop["eventID"]][4] == stopped[later_office["eventID"]][4] == [2]
    assert stopped[outside["eventID"]][4] == [] and not stopped[outside["eventID"]][5]
    # kept, never dropped: every StopLogging is still a finding
    assert set(stopped) == {stop["eventID"], later_office["eventID"], outside["eventID"]}
    # recorded once, in the tables that no rerun touches
    assert stored(db, "select count(*) from verdicts")[0][0] == 1
    assert stored(db, "select count(*) from allowlist")[0][0] == 1

    text = latest(tmp_path / "reports", "defense_evasion_report-*.md")
    assert "2 finding(s) matched allowlist entry 2 (cidr 203.0.113.0/24 - office egress): kept, listed last" in text
    evidence = [line for line in text.splitlines() if "203.0.113." in line or "198.51.100.200" in line]
    evidence = [line for line in evidence if line.startswith("| 2026-")]
    # the finding from outside the allowlisted range first, the allowlisted ones after it, marked
    assert "198.51.100.200" in evidence[0] and all("(allowlisted #2)" in line for line in evidence[1:])
    hunt_text = latest(tmp_path / "reports", "hunt_report-*.md")
    assert "## Triage" in hunt_text and "1 finding(s) marked benign" in hunt_text
    assert "(benign by tester)" in hunt_text


def test_report_says_how_to_record_when_nothing_is_recorded(tmp_path, case):
    db, _, _ = case
    run_two_detectors(db)
    text = latest(tmp_path / "reports", "console_logins_report-*.md")
    assert "## Triage" in text and "analyze_triage.py DATABASE verdict" in text


ALLOW_CASES = [
    ("principal", f"arn:aws:iam::{ACCOUNT}:root", True),
    ("principal", "arn:aws:iam::999999999999:root", False),
    ("ip", "192.0.2.10", True),
    ("ip", "192.0.2.11", False),
    ("cidr", "192.0.2.0/28", True),
    ("cidr", "192.0.2.16/28", False),
    ("user_agent", "mozilla/*", True),      # whole-agent pattern, case ignored
    ("user_agent", "firefox", False),       # not a substring match without *
    ("user_agent", "*Firefox*", True),
    ("user_agent", "Mozilla/5.0 (X11_ Linux%", False),   # _ and % are plain characters
]


def test_allowlist_kinds_match_exactly_what_they_say(tmp_path, case, capsys):
    db, root, _ = case
    run_two_detectors(db)
    for kind, value, matches in ALLOW_CASES:
        assert run_triage(db, "allow", kind, value, "known") == 0
        entry = stored(db, "select max(entry_id) from allowlist")[0][0]
        rows = triaged(db, "root_console_login_succeeded")
        assert [bool(r[4]) for r in rows] == [matches], (kind, value)
        assert run_triage(db, "remove", str(entry)) == 0


def test_allowlist_limits_to_one_detection_and_a_time_span(tmp_path, case):
    db, root, stop = case
    run_two_detectors(db)
    assert run_triage(db, "allow", "principal", "alice", "limited", "cloudtrail_logging_stopped",
                      "2026-11-02", "2026-11-02") == 0
    assert run_triage(db, "allow", "principal", "alice", "next day only", "any", "2026-11-03") == 0
    rows = {r[0]: r[4] for r in triaged(db)}
    assert rows["cloudtrail_logging_stopped"] == [1]


def test_a_later_verdict_replaces_an_earlier_one_and_remove_restores_it(tmp_path, case, capsys):
    db, root, _ = case
    run_two_detectors(db)
    assert run_triage(db, "verdict", root["eventID"], "needs_review", "check with owner") == 0
    assert run_triage(db, "verdict", root["eventID"], "confirmed", "owner did not sign in") == 0
    confirmed = [r for r in triaged(db) if r[2]]
    # a bare event id reaches every finding that event triggered (this sign-in fires two detections)
    assert len(confirmed) == 2 and {r[2] for r in confirmed} == {"confirmed"} and not any(r[5] for r in confirmed)
    for (verdict_id,) in stored(db, "select verdict_id from verdicts where verdict = 'confirmed' order by 1"):
        assert run_triage(db, "remove", str(verdict_id)) == 0
    assert {r[2] for r in triaged(db) if r[2]} == {"needs_review"}
    assert stored(db, "select count(*) from verdicts where removed_at is not null")[0][0] == 2
    capsys.readouterr()
    assert run_triage(db, "list") == 0
    out = capsys.readouterr().out
    assert "needs_review" in out and "owner did not sign in" not in out


def test_incident_verdict_is_kept_by_its_earliest_finding(tmp_path, case):
    db, root, _ = case
    run_two_detectors(db)
    target = f"incident:root_console_login_succeeded:{root['eventID']}"
    assert run_triage(db, "verdict", target, "confirmed", "part of the intrusion") == 0
    con = casedb.open_case(str(db))
    try:
        assert triage.verdict_for_incident(con, "root_console_login_succeeded", root["eventID"])[0] == "confirmed"
    finally:
        con.close()


@pytest.fixture(scope="module")
def detected_case(tmp_path_factory):
    """One case with findings for the tests that only read it."""
    folder = tmp_path_factory.mktemp("triage")
    db = build_case(folder, [sign_in("root", mfa="No", ip="192.0.2.10")])
    run_two_detectors(db)
    return db


@pytest.mark.parametrize("args, code, said", [
    (["verdict", "nope_not_found:123", "benign", "x"], 1, "no finding of nope_not_found"),
    (["verdict", "123", "benign", "x"], 1, "no finding is triggered by event 123"),
    (["verdict", "x", "fine", "x"], 2, "verdict must be one of"),
    (["allow", "cidr", "203.0.113.0/33", "x"], 2, "is not a CIDR range"),
    (["allow", "ip", "not-an-ip", "x"], 2, "is not an IPv4 or IPv6 address"),
    (["allow", "host", "x", "x"], 2, "allowlist kind must be one of"),
    (["allow", "ip", "192.0.2.1", " "], 2, "give a REASON"),
    (["allow", "ip", "192.0.2.1", "x", "any", "soon"], 2, "cannot read 'soon'"),
    (["remove", "77"], 1, "no verdict or allowlist entry 77"),
    (["remove", "seven"], 2, "ID must be a number"),
    (["delete"], 2, "unknown command"),
])
def test_bad_input_is_one_line_and_the_right_exit_code(detected_case, capsys, args, code, said):
    capsys.readouterr()
    assert run_triage(detected_case, *args) == code
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_ipv6_and_leading_zero_addresses_match_ranges():
    assert triage.parse_ip("075.050.255.067") == triage.parse_ip("75.50.255.67")
    assert triage.parse_ip("2001:DB8::1") == triage.parse_ip("2001:db8:0:0::1")
    assert triage.parse_ip("ec2.amazonaws.com") is None
    assert triage.check_allow_value("cidr", "2001:db8::1/32") == "2001:db8::/32"


def test_analyst_name_from_environment(monkeypatch):
    monkeypatch.setenv("CLOUDTRAIL_ANALYST", "jo")
    assert triage.analyst() == "jo"
    monkeypatch.delenv("CLOUDTRAIL_ANALYST")
    monkeypatch.setenv("USER", "someone")
    assert triage.analyst() == "someone"


def test_an_older_case_database_gets_the_tables(tmp_path, case):
    db, _, _ = case
    con = casedb.open_case(str(db))
    try:
        assert triage.triage_summary(con)["lines"] == []
        assert casedb.scalar(con, "select count(*) from findings_triaged") == 0   # no detector ran yet
    finally:
        con.close()
