"""Incidents: findings grouped into attacks with every event of the attacker's keys, ranked by
what happened; and one finding per fact."""
import datetime as dt

import orjson

import casedb
import incidents
import lineage
from conftest import ACCOUNT, build_case, event
from identity_fixtures import KALI, denied, escalation_records, get_object, user

ROOT_IP = "198.51.100.20"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/125.0 Safari/537.36"


def root_console(time, key="ASIAROOTCONSOLE00001"):
    return {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
            "accessKeyId": key}


def owner_records():
    """The owner works as root from one address for hours, signing in three times without MFA."""
    records = []
    for hour in range(6, 12):
        records.append(event("DescribeInstances", time=f"2026-11-02T{hour:02d}:10:00Z", identity=root_console(0),
                             sourceIPAddress=ROOT_IP, userAgent="AWS Internal"))
    for n, hour in enumerate((9, 10, 11)):
        records.append(event("ConsoleLogin", "signin.amazonaws.com", f"2026-11-02T{hour:02d}:00:00Z",
                             {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                              "accountId": ACCOUNT, "accessKeyId": ""},
                             sourceIPAddress=ROOT_IP, userAgent=BROWSER, responseElements={"ConsoleLogin": "Success"},
                             additionalEventData={"MFAUsed": "No"}, eventID=f"root-login-{n}"))
    return records


def attack_records():
    """A leaked key: checks itself, probes (denied), makes a user with admin rights, reads data."""
    leaked = user("ci-deploy", "AKIACIDEPLOY00000001")
    records = [event("ListBuckets", "s3.amazonaws.com", "2026-11-01T08:00:00Z", leaked, sourceIPAddress="192.0.2.50",
                     userAgent="Terraform/1.8.5")]
    ip = "203.0.113.45"
    records.append(event("GetCallerIdentity", "sts.amazonaws.com", "2026-11-02T13:00:00Z", leaked,
                         sourceIPAddress=ip, userAgent=KALI, eventID="attack-whoami"))
    for n in range(12):
        records.append(denied(f"Describe{n}", "ec2.amazonaws.com", f"2026-11-02T13:01:{n:02d}Z", leaked, ip))
    records[-1]["eventID"] = "attack-denied-last"
    records.append(event("CreateUser", "iam.amazonaws.com", "2026-11-02T13:05:00Z", leaked, sourceIPAddress=ip,
                         userAgent=KALI, eventID="attack-create-user", requestParameters={"userName": "backup"}))
    records.append(event("AttachUserPolicy", "iam.amazonaws.com", "2026-11-02T13:05:30Z", leaked, sourceIPAddress=ip,
                         userAgent=KALI, eventID="attack-attach",
                         requestParameters={"userName": "backup", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    records.append(denied("ListObjects", "s3.amazonaws.com", "2026-11-02T13:06:00Z", leaked, ip))
    records[-1]["eventID"] = "attack-denied-list"
    records.append(get_object("2026-11-02T13:07:00Z", leaked, ip, KALI))
    records[-1]["eventID"] = "attack-get-object"
    return records


def finding(detector, detection_id, title, severity, mitre, event_id, time, actor, ip, summary, event_ids=None,
            error_code=None, resource=None):
    moment = dt.datetime.fromisoformat(time.replace("Z", "+00:00"))
    return {"detector": detector, "detection_id": detection_id, "title": title, "severity": severity, "mitre": mitre,
            "first_time": moment, "last_time": moment, "event_id": event_id, "event_ids": event_ids or [event_id],
            "error_code": error_code, "actor": actor, "source_ip": ip, "account_id": ACCOUNT, "region": "us-east-1",
            "resource": resource, "summary": summary, "details": None, "run_id": "test", "window_since": None,
            "window_until": None, "found_at": dt.datetime(2026, 11, 3, tzinfo=dt.timezone.utc)}


def store(con, rows):
    for r in rows:
        con.execute(f"insert into findings ({', '.join(r)}) values ({', '.join('?' for _ in r)})", list(r.values()))


ROOT = f"arn:aws:iam::{ACCOUNT}:root"
CI = f"arn:aws:iam::{ACCOUNT}:user/ci-deploy"


def owner_findings():
    rows = []
    for n, hour in enumerate((9, 10, 11)):
        time = f"2026-11-02T{hour:02d}:00:00Z"
        rows.append(finding("console_logins", "root_console_login_succeeded", "Root user signed in to the console",
                            "critical", ["T1078.004"], f"root-login-{n}", time, ROOT, ROOT_IP, "root signed in"))
        rows.append(finding("console_logins", "console_login_without_mfa", "Console sign-in without MFA", "critical",
                            ["T1078.004"], f"root-login-{n}", time, ROOT, ROOT_IP, "root signed in without MFA"))
    return rows


def attack_findings():
    return [
        finding("recon", "api_calls_denied_in_burst", "AccessDenied storm", "medium", ["T1526", "T1580"],
                "attack-denied-last", "2026-11-02T13:01:11Z", CI, "203.0.113.45", "12 denied calls",
                error_code="AccessDenied"),
        finding("iam", "iam_user_created", "IAM user created", "medium", ["T1136.003"], "attack-create-user",
                "2026-11-02T13:05:00Z", CI, "203.0.113.45", "created backup", resource="user/backup"),
        finding("iam", "admin_policy_attached", "Admin-equivalent managed policy attached", "high", ["T1098.003"],
                "attack-attach", "2026-11-02T13:05:30Z", CI, "203.0.113.45", "AdministratorAccess to backup",
                resource="user/backup"),
    ]


def build(tmp_path, records, findings):
    db = build_case(tmp_path, records)
    con = casedb.open_case(str(db))
    casedb.ensure_schema(con)
    store(con, findings)
    lineage.build(con)
    incidents.build(con)
    return con


def incident_rows(con):
    cursor = con.execute("select * from incidents order by rank")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def test_the_attack_outranks_the_owners_routine_root_sign_ins(tmp_path):
    con = build(tmp_path, owner_records() + attack_records(), owner_findings() + attack_findings())
    try:
        rows = incident_rows(con)
        assert rows[0]["principals"] == [CI]
        assert rows[0]["source_ips"] == ["203.0.113.45"]
        owner = next(r for r in rows if r["principals"] == [ROOT])
        assert owner["rank"] > rows[0]["rank"]
        assert any("matches its own history" in reason for reason in owner["reasons"])
        assert any("count once" in reason for reason in owner["reasons"])
        assert any("tactics" in reason for reason in rows[0]["reasons"])
        assert any("failed or denied" in reason for reason in rows[0]["reasons"])
        assert any("privilege" in reason for reason in rows[0]["reasons"])
        assert all(row["reasons"] and row["summary"] and row["title"] for row in rows)
        assert rows[0]["tactics"] == ["persistence", "privilege-escalation", "discovery"]
    finally:
        con.close()


def test_the_incident_holds_the_events_no_detection_flagged(tmp_path):
    con = build(tmp_path, owner_records() + attack_records(), owner_findings() + attack_findings())
    try:
        attack = incident_rows(con)[0]
        for unflagged in ("attack-whoami", "attack-denied-list", "attack-get-object"):
            assert unflagged in attack["event_ids"]
        # the same key's routine use from the CI runner the day before is not the attacker's
        assert casedb.scalar(con, """select count(*) from incident_events join events using (event_id)
                                     where source_ip = '192.0.2.50'""") == 0
        assert casedb.scalar(con, "select count(*) from findings where incident_id is null") == 0
        assert casedb.scalar(con, "select count(distinct incident_id) from findings") == 2
        assert any("read data" in reason for reason in attack["reasons"])
    finally:
        con.close()


def test_a_lone_low_finding_stays_outside_incidents(tmp_path):
    records = [event("DescribeInstances", time="2026-11-02T10:00:00Z", eventID="lone")]
    lone = finding("recon", "x_y", "Something small", "low", ["T1580"], "lone", "2026-11-02T10:00:00Z",
                   f"arn:aws:iam::{ACCOUNT}:user/alice", "198.51.100.7", "small")
    con = build(tmp_path, records, [lone])
    try:
        assert incident_rows(con) == []
        assert casedb.scalar(con, "select incident_id from findings") is None
    finally:
        con.close()


def test_escalation_chain_is_one_incident_through_the_new_session(tmp_path):
    records = escalation_records()
    storm_ids = [r["eventID"] for r in records if r.get("errorCode")]
    assume = next(r for r in records if r["eventName"] == "AssumeRole")
    flagged = [finding("identity", "role_assumed_after_denied_storm", "Role assumed right after a storm of denied calls",
                       "high", ["T1548.005"], assume["eventID"], assume["eventTime"],
                       f"arn:aws:iam::{ACCOUNT}:user/mallory", "203.0.113.50", "assumed AdminRole",
                       event_ids=[assume["eventID"]] + storm_ids[:25])]
    con = build(tmp_path, records, flagged)
    try:
        [row] = incident_rows(con)
        read = next(r for r in records if r["eventName"] == "GetObject")
        first = next(r for r in records if r["eventName"] == "GetCallerIdentity")
        assert read["eventID"] in row["event_ids"] and first["eventID"] in row["event_ids"]
        assert "ASIAESCALATED0000001" in row["access_keys"]
    finally:
        con.close()


def test_one_line_per_fact(tmp_path):
    records = owner_records()
    trail = [event("StopLogging", "cloudtrail.amazonaws.com", f"2026-11-02T12:0{n}:00Z", errorCode="AccessDenied",
                   eventID=f"stop-{n}") for n in range(3)]
    stops = [finding("defense_evasion", "trail_logging_stopped", "CloudTrail logging stopped", "high",
                     ["T1562.008"], f"stop-{n}", f"2026-11-02T12:0{n}:00Z", f"arn:aws:iam::{ACCOUNT}:user/alice",
                     "198.51.100.7", "attempt: StopLogging", error_code="AccessDenied", resource="trail/main")
             for n in range(3)]
    con = build(tmp_path, records + trail, owner_findings() + stops)
    try:
        facts = incidents.facts(con)
        root = [f for f in facts if f["actor"] == ROOT]
        # each sign-in is one critical line naming both reasons
        assert len(root) == 1 and root[0]["times"] == 3
        assert root[0]["reasons"] == ["Console sign-in without MFA", "Root user signed in to the console"]
        assert root[0]["severity"] == "critical"
        [stop] = [f for f in facts if f["resource"] == "trail/main"]
        assert stop["times"] == 3 and stop["failed"]
    finally:
        con.close()


def test_facts_of_every_incident_in_one_query_are_each_incidents_own(tmp_path):
    """case_summary reads all incidents' facts at once (facts_by_incident); for each incident that
    must be exactly what facts(con, "inside", incident=...) gives, in the same order."""
    records = owner_records() + attack_records()
    con = build(tmp_path, records, owner_findings() + attack_findings())
    try:
        every = incidents.facts_by_incident(con)
        ids = [row["incident_id"] for row in incident_rows(con)]
        assert len(ids) >= 2 and set(every) == set(ids)
        for incident_id in ids:
            assert every[incident_id] == incidents.facts(con, "inside", incident=incident_id)
    finally:
        con.close()


def test_weights_are_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDTRAIL_INCIDENT_KNOWN_HISTORY", "0")
    monkeypatch.setenv("CLOUDTRAIL_INCIDENT_WEIGHT_CRITICAL", "100")
    monkeypatch.setenv("CLOUDTRAIL_INCIDENT_SEVERITY_CAP", "1000")
    con = build(tmp_path, owner_records() + attack_records(), owner_findings() + attack_findings())
    try:
        assert incident_rows(con)[0]["principals"] == [ROOT]
    finally:
        con.close()


def test_case_summary_reads_as_a_story(tmp_path):
    con = build(tmp_path, owner_records() + attack_records(), owner_findings() + attack_findings())
    try:
        text = "\n".join(incidents.case_summary(con, tmp_path / "case.db"))
        assert text.index("## Incidents, most important first") < text.index("### Timeline of incident 1")
        assert "analyze\\_actor.py" in text or "analyze_actor.py" in text
        assert "AKIACIDEPLOY00000001" in text
        assert "## Coverage" in text
        assert "S3 data events are logged only from" in text
    finally:
        con.close()


def test_every_detection_technique_maps_to_a_tactic():
    import re
    from pathlib import Path
    repo = Path(incidents.__file__).parent
    used = set()
    for path in list(repo.glob("analyze_*.py")) + list(repo.glob("rules/*/*.sql")):
        used |= set(re.findall(r"T1\d{3}(?:\.\d{3})?", path.read_text(encoding="utf-8")))
    assert {t for t in used if incidents.tactic_of(t) is None} == set()
    assert orjson.dumps(sorted(used))


def test_an_incidents_findings_line_names_each_kind_once_with_its_count():
    """The same detection on other events is counted, not repeated (the demo listed the
    offensive-tool user agent three times in one incident's line)."""
    tool = "API calls with an offensive-tool user agent\x1fapi_called_from_offensive_tool"
    storm = "AccessDenied storm\x1fapi_calls_denied_in_burst"
    facts = [{"named": [tool], "times": 1, "detection_ids": ["api_called_from_offensive_tool"], "event_ids": ["a"]},
             {"named": [storm], "times": 2, "detection_ids": ["api_calls_denied_in_burst"], "event_ids": ["b", "c"]},
             {"named": [tool], "times": 2, "detection_ids": ["api_called_from_offensive_tool"], "event_ids": ["d", "e"]},
             {"named": [tool, storm], "times": 1, "detection_ids": ["api_called_from_offensive_tool", "api_calls_denied_in_burst"],
              "event_ids": ["f"]}]
    line = incidents.findings_line(facts, {})
    assert line.count("offensive-tool") == 1 and line.count("AccessDenied storm") == 1
    assert line.index("offensive-tool") < line.index("AccessDenied storm")
    assert "(`api_called_from_offensive_tool`) x4" in line and "(`api_calls_denied_in_burst`) x3" in line
    marked = incidents.findings_line(facts, {("api_calls_denied_in_burst", "b"): "benign"})
    assert "(`api_calls_denied_in_burst`) x2 (benign)" in marked
    assert incidents.findings_line(facts, {}, shown=1).endswith("; and 1 more")
