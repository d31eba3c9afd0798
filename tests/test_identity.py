"""The identity area's rules (rules/identity/): positive and near-miss negative cases, on the
project's fixtures and on real records. Each rule file is run as it is, after views.sql and the
settings, the way an analyst pastes it into duckdb."""
from pathlib import Path

import pytest

import casedb
import lineage
from conftest import ACCOUNT, REPO, SHARED_DATA, build_case, event, ingest, needs_shared_data
from identity_fixtures import (KALI, LAMBDA_AGENT, LAPTOP_CLI, assume_role, denied, escalation_records,
                               get_object, role_session, stolen_lambda_records, user)
from test_ipcontext import write_ranges

FOLDER = REPO / "rules" / "identity"
SETTINGS = {"identity_storm_calls": 20, "identity_storm_minutes": 15}


def run_rules(db_path, address_files=False, **settings):
    """{rule id: [event_id, event_ids, summary] rows} for every rule file of the area. With
    address_files, the lineage labels the case's addresses from the files beside it, as the hunt does."""
    con = casedb.connect(str(db_path))
    try:
        lineage.build(con, db_path if address_files else None)
        for name, value in (SETTINGS | settings).items():
            con.execute(f"set variable {name} = {int(value)}")
        con.execute((FOLDER / "views.sql").read_text(encoding="utf-8"))
        found = {}
        for path in sorted(FOLDER.glob("*.sql")):
            if path.name == "views.sql":
                continue
            cursor = con.execute(path.read_text(encoding="utf-8"))
            names = [d[0] for d in cursor.description]
            found[path.stem] = [dict(zip(names, row)) for row in cursor.fetchall()]
        return found
    finally:
        con.close()


def ids(rows):
    return {event_id for row in rows for event_id in (row.get("event_ids") or [row["event_id"]])}


def test_every_rule_returns_event_id_and_summary_on_an_empty_case(tmp_path):
    found = run_rules(build_case(tmp_path, [event()]))
    assert set(found) == {p.stem for p in FOLDER.glob("*.sql") if p.name != "views.sql"}
    assert all(rows == [] for rows in found.values())


def test_stolen_lambda_session_fires_only_on_the_laptop_use(tmp_path):
    own, stolen = stolen_lambda_records()
    found = run_rules(build_case(tmp_path, own + stolen))
    [finding] = found["service_credentials_used_outside_service"]
    assert ids([finding]) == {r["eventID"] for r in stolen}
    assert "lambda.amazonaws.com" in finding["summary"] and "203.0.113.9" in finding["summary"]
    assert not ids([finding]) & {r["eventID"] for r in own}


def test_the_function_using_its_own_role_stays_silent(tmp_path):
    own, _ = stolen_lambda_records()
    # the same role used by the Lambda service from another AWS address the next hour
    session = role_session("level1", "level1", "ASIALAMBDA0000000001")
    own.append(event("GetObject", "s3.amazonaws.com", "2026-11-02T10:00:00Z", session, sourceIPAddress="54.210.1.9",
                     userAgent=LAMBDA_AGENT, eventCategory="Data"))
    found = run_rules(build_case(tmp_path, own))
    assert found["service_credentials_used_outside_service"] == []
    assert found["session_credentials_used_from_two_networks"] == []


def test_instance_session_used_from_a_laptop_fires_and_from_the_vpc_does_not(tmp_path):
    instance = role_session("web-app-role", "i-0a1b2c3d4e5f67890", "ASIAINSTANCE00000001")
    inside = [event("DescribeInstances", time=f"2026-11-02T09:0{n}:00Z", identity=instance,
                    sourceIPAddress=f"10.0.1.{n + 5}", userAgent="aws-sdk-java/2.25.60 Linux/5.10") for n in range(3)]
    outside = event("ListBuckets", "s3.amazonaws.com", "2026-11-02T09:30:00Z", instance, sourceIPAddress="203.0.113.7",
                    userAgent=LAPTOP_CLI)
    found = run_rules(build_case(tmp_path, inside + [outside]))
    assert ids(found["service_credentials_used_outside_service"]) == {outside["eventID"]}
    found = run_rules(build_case(tmp_path, inside, name="inside.db"))
    assert found["service_credentials_used_outside_service"] == []


BOTO = "Boto3/1.34.10 md/Botocore#1.34.10 ua/2.0 os/linux#5.10.0 md/arch#x86_64 lang/python#3.11.6"


def instance_session_stolen_with_the_same_client(outside_ip):
    """An instance calling from its VPC with boto3, then its credentials used with boto3 from outside_ip:
    the client family is the one the role's service sessions use, so history alone cannot tell."""
    instance = role_session("web-app-role", "i-0a1b2c3d4e5f67890", "ASIAINSTANCE00000001")
    inside = [event("DescribeInstances", time=f"2026-11-02T09:0{n}:00Z", identity=instance,
                    sourceIPAddress=f"10.0.1.{n + 5}", userAgent=BOTO) for n in range(3)]
    outside = event("ListBuckets", "s3.amazonaws.com", "2026-11-02T09:30:00Z", instance, sourceIPAddress=outside_ip,
                    userAgent=BOTO)
    return inside, outside


def test_with_aws_ranges_a_service_session_from_outside_aws_fires_whatever_its_client(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOUDTRAIL_IP_RANGES", raising=False)
    monkeypatch.delenv("CLOUDTRAIL_MMDB", raising=False)
    inside, outside = instance_session_stolen_with_the_same_client("185.220.101.7")
    db_path = build_case(tmp_path, inside + [outside])
    # without ip-ranges.json: the same client as the instance's, so nothing to tell it apart
    assert run_rules(db_path, address_files=True)["service_credentials_used_outside_service"] == []
    write_ranges(tmp_path)
    [finding] = run_rules(db_path, address_files=True)["service_credentials_used_outside_service"]
    assert ids([finding]) == {outside["eventID"]}
    assert "185.220.101.7 (outside AWS's published ranges)" in finding["summary"]


def test_with_aws_ranges_an_aws_address_still_needs_a_new_client_or_network(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOUDTRAIL_IP_RANGES", raising=False)
    monkeypatch.delenv("CLOUDTRAIL_MMDB", raising=False)
    # 3.238.12.183 is EC2 us-east-1 in the test ranges: inside AWS, so only the history decides
    inside, outside = instance_session_stolen_with_the_same_client("3.238.12.183")
    write_ranges(tmp_path)
    assert run_rules(build_case(tmp_path, inside + [outside]), address_files=True)[
        "service_credentials_used_outside_service"] == []
    outside["userAgent"] = LAPTOP_CLI
    [finding] = run_rules(build_case(tmp_path, inside + [outside], name="new-client.db"), address_files=True)[
        "service_credentials_used_outside_service"]
    assert "3.238.12.183 (AWS EC2 us-east-1)" in finding["summary"]


def test_one_session_on_two_unrelated_networks(tmp_path):
    session = role_session("Deploy", "ci", "ASIATWONETS000000001")
    home = [event("ListBuckets", "s3.amazonaws.com", f"2026-11-02T09:0{n}:00Z", session,
                  sourceIPAddress="198.51.100.7", userAgent="Boto3/1.34.1 md/Botocore#1.34.1") for n in range(2)]
    replay = event("ListUsers", "iam.amazonaws.com", "2026-11-02T09:20:00Z", session, sourceIPAddress="203.0.113.77",
                   userAgent=KALI)
    found = run_rules(build_case(tmp_path, home + [replay]))
    assert ids(found["session_credentials_used_from_two_networks"]) == {replay["eventID"]}


def test_same_client_from_home_and_office_is_not_two_unrelated_networks(tmp_path):
    session = role_session("Deploy", "alice", "ASIATWONETS000000002")
    records = [event("ListBuckets", "s3.amazonaws.com", "2026-11-02T09:00:00Z", session, sourceIPAddress="198.51.100.7",
                     userAgent=LAPTOP_CLI),
               event("ListBuckets", "s3.amazonaws.com", "2026-11-02T11:00:00Z", session, sourceIPAddress="192.0.2.10",
                     userAgent=LAPTOP_CLI)]
    found = run_rules(build_case(tmp_path, records))
    assert found["session_credentials_used_from_two_networks"] == []


def test_role_assumed_after_a_storm_counted_per_key_across_addresses(tmp_path):
    records = escalation_records()
    found = run_rules(build_case(tmp_path, records))
    [finding] = found["role_assumed_after_denied_storm"]
    assume = next(r for r in records if r["eventName"] == "AssumeRole")
    assert finding["event_id"] == assume["eventID"]
    assert "25 denied call(s)" in finding["summary"] and "5 address(es)" in finding["summary"]
    [read] = found["data_read_by_escalated_session"]
    assert read["event_id"] == next(r for r in records if r["eventName"] == "GetObject")["eventID"]
    assert "emergency.txt" in read["summary"]


def test_a_few_denials_before_a_routine_assume_role_stay_silent(tmp_path):
    records = escalation_records(storm=5)
    found = run_rules(build_case(tmp_path, records))
    assert found["role_assumed_after_denied_storm"] == []
    assert found["data_read_by_escalated_session"] == []


def test_storm_long_before_the_assume_role_stays_silent(tmp_path):
    mallory = user("mallory", "AKIAMALLORY000000002")
    records = [denied(f"List{n}", "ec2.amazonaws.com", f"2026-11-02T08:00:{n:02d}Z", mallory, "203.0.113.50")
               for n in range(30)]
    records.append(assume_role(mallory, "AdminRole", "later", "ASIALATER00000000001", "2026-11-02T10:00:00Z"))
    found = run_rules(build_case(tmp_path, records))
    assert found["role_assumed_after_denied_storm"] == []


@needs_shared_data
def test_real_stolen_instance_credentials_fire(tmp_path):
    db = tmp_path / "real.db"
    assert ingest(db, SHARED_DATA / "otrf" / "s3", SHARED_DATA / "stratus-red-team" / "s3") == 0
    found = run_rules(db)
    sessions = {row["resource"] for row in found["service_credentials_used_outside_service"]}
    # OTRF: the EC2 proxy's instance credentials replayed from a Mac; Stratus: ec2-steal-instance-credentials
    assert any("MordorNginxStack-BankingWAFRole" in s for s in sessions)
    assert any("stratus-red-team-ec2-steal-credentials-role" in s for s in sessions)
    # the Stratus roles assumed by christophe's own key are not service sessions
    assert not any("get-password-data" in s for s in sessions)


@pytest.mark.parametrize("path", sorted(p for p in FOLDER.glob("*.sql") if p.name != "views.sql"), ids=lambda p: p.stem)
def test_rule_header_is_complete(path):
    text = path.read_text(encoding="utf-8")
    header = text[text.index("/*") + 2:text.index("*/")]
    for field in ("id:", "title:", "severity:", "mitre:", "status:", "description:", "false_positives:",
                  "triage:", "references:"):
        assert field in header, (path.name, field)
    assert f"id: {path.stem}" in header
    assert "description: >\n  Detects " in header
