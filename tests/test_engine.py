"""The detection engine (detections.py) and the rules package: Python rules, the shared columns,
windowed runs, interrupts, unwritable output folders, failed detections, and determinism."""
import dataclasses
import errno
import gzip
import random
import sys
from pathlib import Path

import duckdb
import orjson
import pytest

import analyze_console_logins as console
import casedb
import common
import detections
import lineage
import rules
from conftest import REPO, build_case, detect, event, stored, write_log_file, ingest

sys.path.insert(0, str(REPO / "samples"))
import generate_sample_logs  # noqa: E402

ROOT_SIGN_IN = dict(eventType="AwsConsoleSignIn", readOnly=False, responseElements={"ConsoleLogin": "Success"},
                    additionalEventData={"MFAUsed": "No"})


def root_sign_in(time):
    return event("ConsoleLogin", "signin.amazonaws.com", time, "root", **ROOT_SIGN_IN)


LOAD_AREA = rules.load_area


def with_detection(area_name, detection):
    """The area with one more detection (for the tests that need a rule that fails or stops)."""
    area = LOAD_AREA(area_name)
    return dataclasses.replace(area, detections=area.detections + (detection,))


def python_rule(function, sql="select event_id, event_time, user_type from console_logins where succeeded"):
    return detections.Detection(
        id="root_console_login_python_test", title="Python rule", severity="low", mitre=("T1078",),
        description="Detects a test.", false_positives="None.", triage=("One.", "Two."), sql=sql,
        python=function.__name__, function=function, rule=True)


def test_a_python_rule_gets_the_shared_columns_from_the_triggering_event(tmp_path):
    first, second = root_sign_in("2026-11-02T10:00:00Z"), root_sign_in("2026-11-02T11:00:00Z")

    def pair_of_sign_ins(con, rows):
        ids = sorted(row["event_id"] for row in rows)
        assert con.execute("select count(*) from console_logins").fetchall() == [(2,)]
        yield {"event_id": ids[0], "event_ids": ids, "summary": "two sign-ins", "details": {"n": len(ids)},
               "source_ip": "192.0.2.1"}

    db = build_case(tmp_path, [first, second])
    found = detect(db, with_detection("console_logins", python_rule(pair_of_sign_ins)))
    [row] = found["root_console_login_python_test"]
    assert row["event_id"] == first["eventID"] and row["event_ids"] == [first["eventID"], second["eventID"]]
    assert str(row["event_time"]).startswith("2026-11-02 10:00") and str(row["last_time"]).startswith("2026-11-02 11:00")
    assert row["actor"] == "arn:aws:iam::111122223333:root" and row["account_id"] == "111122223333"
    assert row["source_ip"] == "192.0.2.1" and row["region"] == "us-east-1" and row["severity"] == "low"
    assert row["details"] == {"n": 2} and row["summary"] == "two sign-ins"


def test_a_rule_returns_only_its_own_columns_and_the_engine_adds_the_rest():
    rule = detections.Detection(id="x_happened", title="t", severity="low", mitre=("T1078",),
                                description="Detects x.", false_positives="n", triage=("a", "b"),
                                sql="select\n    min(event_id) as event_id,\n    'x' as summary\nfrom scoped_events", rule=True)
    assert detections.rule_columns(rule.sql) == ("event_id", "summary")
    con = duckdb.connect()
    con.execute("create table events as select 'e1' as event_id, timestamptz '2026-11-02 10:00:00+00' as event_time,"
                " 'A' as event_name, 'me' as actor, '1.2.3.4' as source_ip, '1' as recipient_account_id,"
                " 'r' as aws_region, null as error_code, 'f2' as source_file, 1 as load_id"
                " union all select 'e1', timestamptz '2026-11-02 09:00:00+00', 'B', 'me', '1.2.3.4', '1', 'r', null,"
                " 'f1', 1")
    con.execute("create view scoped_events as select * from events")
    rows = con.execute(detections.rule_query(rule)).fetchall()
    # event_id e1 is in two rows (hand-made data): the finding takes exactly one, the earliest.
    assert len(rows) == 1 and rows[0][1] == "B"
    with pytest.raises(ValueError, match="unexpected colour"):
        detections.rule_query(rule, ("event_id", "summary", "colour"))


def test_a_rule_run_in_two_steps_gives_what_the_one_query_gives():
    """The engine fetches a rule's rows first and joins only those with events (one query made
    DuckDB hash every event for every rule); the findings are those of rule_query as one query,
    and a rule that finds nothing has its columns checked all the same."""
    con = duckdb.connect()
    con.execute("create table events as select * from (values"
                " ('e1', timestamptz '2026-11-02 10:00:00+00', 'A', 'me', '1.2.3.4', '1', 'r', null, 'f1', 1),"
                " ('e2', timestamptz '2026-11-02 11:00:00+00', 'B', 'you', '1.2.3.5', '1', 'r', 'Denied', 'f1', 1),"
                " ('e3', timestamptz '2026-11-02 12:00:00+00', 'C', 'me', '1.2.3.4', '2', 's', null, 'f2', 1))"
                " as t(event_id, event_time, event_name, actor, source_ip, recipient_account_id, aws_region,"
                " error_code, source_file, load_id)")
    con.execute("create view scoped_events as select * from events")

    def rule(sql):
        return detections.Detection(id="x_happened", title="t", severity="low", mitre=("T1078",),
                                    description="Detects x.", false_positives="n", triage=("a", "b"), sql=sql,
                                    rule=True)

    found = rule("select\n    min(event_id) as event_id,\n    list(event_id order by event_id) as event_ids,\n"
                 "    actor,\n    concat(actor, ' acted') as summary,\n    {'calls': count(*)} as details,\n"
                 "    case when actor = 'you' then 'high' end as severity\nfrom scoped_events\ngroup by actor")
    one_query = [dict(zip(detections.FINDING_COLUMNS, row), severity=row[11] or "low")    # the rule's own severity
                 for row in con.execute(detections.rule_query(found)).fetchall()]
    two_steps = detections._finding_rows(con, found)
    assert len(two_steps) == 2 and two_steps == sorted(one_query, key=lambda row: row["event_time"])
    assert [(row["event_id"], row["event_ids"], row["severity"]) for row in two_steps] == [
        ("e1", ["e1", "e3"], "low"), ("e2", ["e2"], "high")]
    assert detections._finding_rows(con, rule("select\n    event_id,\n    'x' as summary\nfrom scoped_events\n"
                                              "where false")) == []
    with pytest.raises(ValueError, match="unexpected colour"):
        detections._finding_rows(con, rule("select\n    event_id,\n    'x' as summary,\n    'red' as colour\n"
                                           "from scoped_events\nwhere false"))


def test_a_windowed_run_replaces_only_findings_inside_its_window(tmp_path):
    """Issue 10 point 5: a run over one day used to delete the area's findings of every day."""
    db = build_case(tmp_path, [root_sign_in("2026-11-01T10:00:00Z"), root_sign_in("2026-11-02T10:00:00Z")])
    assert console.main(["analyze_console_logins.py", str(db)]) == 0
    everything = stored(db, "select detection_id, first_time from findings order by all")
    assert len([r for r in everything if r[0] == "root_console_login_succeeded"]) == 2
    assert console.main(["analyze_console_logins.py", str(db), "2026-11-02", "2026-11-02"]) == 0
    assert stored(db, "select detection_id, first_time from findings order by all") == everything
    assert stored(db, "select count(*) from findings where window_since is null") == [(
        len([r for r in everything if r[1].day == 1]),)]
    assert console.main(["analyze_console_logins.py", str(db), "2030-01-01"]) == 0
    assert stored(db, "select detection_id, first_time from findings order by all") == everything


@pytest.mark.parametrize("stop", [KeyboardInterrupt, duckdb.InterruptException, RuntimeError])
def test_ctrl_c_during_a_detection_exits_130_and_keeps_the_findings(tmp_path, monkeypatch, capsys, stop):
    """Issue 10 point 7: DuckDB turns Ctrl-C inside a query into an error (InterruptException, or
    RuntimeError "Query interrupted" while a result is fetched), which a detector used to count
    as one failed detection, then exit 0 with the findings replaced; the hunt went on."""
    db = build_case(tmp_path, [root_sign_in("2026-11-02T10:00:00Z")])
    assert console.main(["analyze_console_logins.py", str(db)]) == 0
    before = stored(db, "select * exclude (found_at) from findings order by all")
    capsys.readouterr()

    def interrupted(rows):
        raise stop("INTERRUPT Error: Interrupted!")
    monkeypatch.setattr(rules, "load_area", lambda name: with_detection(name, python_rule(interrupted)))
    assert console.main(["analyze_console_logins.py", str(db)]) == 130
    assert stored(db, "select * exclude (found_at) from findings order by all") == before
    assert capsys.readouterr().err.count("\n") == 1
    assert not list((tmp_path / "reports").glob("console_logins_report-*.md"))[1:]


def test_a_failed_detection_makes_the_detector_exit_1(tmp_path, monkeypatch, capsys):
    """Issue 10 point 9: '14 failed' and exit 0 on a damaged database."""
    db = build_case(tmp_path, [root_sign_in("2026-11-02T10:00:00Z")])
    broken = dataclasses.replace(python_rule(lambda rows: []), python="", function=None,
                                 sql="select event_id, 'x' as summary from no_such_table")
    monkeypatch.setattr(rules, "load_area", lambda name: with_detection(name, broken))
    assert console.main(["analyze_console_logins.py", str(db)]) == 1
    out, err = capsys.readouterr()
    assert "1 detection(s) failed: root_console_login_python_test" in out
    assert "root_console_login_python_test: failed" in err
    assert stored(db, "select count(*) from findings where detection_id = 'root_console_login_succeeded'") == [(1,)]


def test_a_damaged_database_is_one_line_and_exit_1(tmp_path, capsys):
    db = build_case(tmp_path, [root_sign_in("2026-11-02T10:00:00Z")])
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\xff" * 4096
    db.write_bytes(bytes(data))
    assert console.main(["analyze_console_logins.py", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_full_output_folder_is_one_line_exit_1_and_leaves_no_empty_file(tmp_path, monkeypatch, capsys):
    """Issue 10 point 8: a 45-line traceback and a 0-byte PNG."""
    db = build_case(tmp_path, [root_sign_in("2026-11-02T10:00:00Z")])
    real_open = open

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return Full(handle) if "x" in mode else handle
    monkeypatch.setattr(common, "open", full_open, raising=False)
    assert console.main(["analyze_console_logins.py", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "CLOUDTRAIL_OUTPUT_DIR" in err
    left = [p for p in (tmp_path / "reports").iterdir() if p.suffix in (".png", ".md") and p.stat().st_size == 0]
    assert left == []


def test_the_severity_order_is_defined_once():
    assert detections.SEVERITIES == ("info", "low", "medium", "high", "critical")
    assert [detections.severity_rank(s) for s in ("critical", "info")] == [0, 4]
    copies = []
    for path in list(REPO.glob("*.py")) + list((REPO / "rules").rglob("*.py")):
        text = path.read_text()
        for needle in ("'critical', 'high', 'medium', 'low', 'info'", '"critical", "high", "medium", "low", "info"',
                       '"info", "low", "medium", "high", "critical"'):
            copies += [path.name] * text.count(needle)
    assert copies == ["detections.py", "detections.py"]


def _sample_records(tmp_path):
    """The demo tree's records (small), plus sign-in failures that share one second (ties)."""
    folder = tmp_path / "sample"
    assert generate_sample_logs.main(["generate_sample_logs.py", str(folder), "1500"]) == 0
    records = []
    for path in sorted(folder.rglob("*.json.gz")):
        if "/CloudTrail/" in path.as_posix() or "/CloudTrail-Insight/" in path.as_posix():
            records += orjson.loads(gzip.decompress(path.read_bytes()))["Records"]
    for i in range(14):
        records.append(event("ConsoleLogin", "signin.amazonaws.com", "2025-06-03T12:00:00Z",
                             {"type": "IAMUser", "principalId": f"AIDA{i}", "accountId": "111122223333",
                              "userName": f"user{i % 7}"},
                             sourceIPAddress="203.0.113.77", eventType="AwsConsoleSignIn",
                             responseElements={"ConsoleLogin": "Failure"}, errorMessage="Failed authentication",
                             additionalEventData={"MFAUsed": "No"}))
    # Security-group changes and log-stream deletions by one actor that share one second, from
    # two IPs and two regions (a burst and a grouped finding whose first event is a tie).
    admin = {"type": "IAMUser", "principalId": "AIDAADMIN", "accountId": "111122223333", "userName": "netadmin",
             "arn": "arn:aws:iam::111122223333:user/netadmin"}
    for i in range(12):
        records.append(event("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", "2025-06-03T13:00:00Z", admin,
                             sourceIPAddress=f"198.51.100.{i % 2 + 1}", awsRegion=("us-east-1", "eu-west-1")[i % 2],
                             requestParameters={"groupId": f"sg-{i:04d}", "ipPermissions": {"items": [
                                 {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                  "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}))
    for i in range(4):
        records.append(event("DeleteLogStream", "logs.amazonaws.com", "2025-06-03T13:05:00Z", admin,
                             sourceIPAddress=f"198.51.100.{i % 2 + 1}",
                             requestParameters={"logGroupName": "/aws/app", "logStreamName": f"stream-{i}"}))
    return records


def _case(tmp_path, name, records, files):
    logs = tmp_path / f"logs-{name}"
    size = len(records) // files + 1
    for number in range(files):
        write_log_file(logs, records[number * size:(number + 1) * size], name=f"part{number:03d}.json.gz")
    assert ingest(tmp_path / f"{name}.db", logs) == 0
    return tmp_path / f"{name}.db"


@pytest.mark.parametrize("area", ["console_logins", "recon", "iam", "exfiltration", "defense_evasion", "security_groups", "identity"])
def test_same_events_in_any_order_give_the_same_findings(tmp_path, area):
    """Issue 16 item 4: every rule of the area, over the same events stored in two orders (and
    split into files differently), gives the same findings in every column."""
    records = _sample_records(tmp_path)
    shuffled = records[:]
    random.Random(16).shuffle(shuffled)
    cases = [_case(tmp_path, "ordered", records, 3), _case(tmp_path, "shuffled", shuffled, 7)]
    if area == "identity":
        # The identity rules read the lineage tables, which the hunt builds before the areas run.
        for db in cases:
            con = casedb.open_case(str(db))
            try:
                lineage.build(con)
            finally:
                con.close()
    first, second = (detect(db, area) for db in cases)
    assert sum(len(rows) for rows in first.values()) >= 5
    assert first.keys() == second.keys()
    for detection_id in first:
        assert first[detection_id] == second[detection_id], detection_id
