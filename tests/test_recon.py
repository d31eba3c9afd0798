"""Reconnaissance detections: a positive and a near-miss negative for each, real records from
../shared/data (Stratus Red Team, OTRF, Panther, TrailDiscover), and the script end to end."""
import datetime as dt

import orjson
import pytest

import analyze_recon as recon
import rules
import rules.recon as recon_area
from conftest import (ACCOUNT, SHARED_DATA, build_case, detect, event, fired_ids, ingest, labelled_records,
                      needs_shared_data, stored)

KALI = "aws-cli/2.13.5 Python/3.11.4 Linux/6.1.0-kali9-amd64 exe/x86_64.kali.2023 prompt/off command/iam.list-users"
INSTANCE = "role:web-app-role/i-0a1b2c3d4e5f67890"
# One sweep over six services, as Stratus Red Team's ec2-enumerate-from-instance runs it.
SWEEP = [("GetCallerIdentity", "sts"), ("ListBuckets", "s3"), ("GetAccountSummary", "iam"), ("ListRoles", "iam"),
         ("ListUsers", "iam"), ("GetAccountAuthorizationDetails", "iam"), ("DescribeSnapshots", "ec2"),
         ("DescribeTrails", "cloudtrail"), ("ListDetectors", "guardduty")]


def at(seconds, day=2):
    start = dt.datetime(2026, 11, day, 10, 0, tzinfo=dt.timezone.utc)
    return (start + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def call(name, service="ec2", seconds=0, identity="alice", **fields):
    return event(name, f"{service}.amazonaws.com", at(seconds), identity, **fields)


def sweep(start=0, step=5, identity="alice", **fields):
    return [call(name, service, start + i * step, identity, **fields) for i, (name, service) in enumerate(SWEEP)]


def denied(count, start=0, step=20, identity="alice", ip="198.51.100.7", code="AccessDenied", **fields):
    return [call("ListUsers", "iam", start + i * step, identity, sourceIPAddress=ip, errorCode=code,
                 errorMessage="User is not authorized to perform: iam:ListUsers", **fields) for i in range(count)]


def instance_call(name="ListBuckets", service="s3", seconds=0, ip="203.0.113.7", identity=INSTANCE, **fields):
    record = call(name, service, seconds, identity, sourceIPAddress=ip, **fields)
    record["userIdentity"]["sessionContext"]["ec2RoleDelivery"] = "1.0"
    return record


def found_for(tmp_path, records, **window):
    return detect(build_case(tmp_path, records), recon, **window)


def ids(records):
    return {r["eventID"] for r in records}


# ---------------------------------------------------------------- discovery bursts

def test_sweep_across_services_is_one_burst_with_every_call(tmp_path):
    burst = sweep()
    found = found_for(tmp_path, burst + [call("DescribeInstances", seconds=3600)])
    rows = found["account_enumerated_in_burst"]
    assert len(rows) == 1
    assert rows[0]["event_ids"] == [r["eventID"] for r in burst]
    assert rows[0]["details"]["distinct_actions"] == 9
    assert rows[0]["resource"] == "cloudtrail, ec2, guardduty, iam, s3, sts"
    assert found["account_enumerated_from_console"] == []


def test_near_miss_bursts_do_not_fire(tmp_path):
    one_service = [call(f"Describe{thing}", seconds=i * 5, identity="carol") for i, thing in enumerate(
        ["Instances", "Volumes", "Snapshots", "Images", "Vpcs", "Subnets", "SecurityGroups", "KeyPairs", "Tags"])]
    too_slow = sweep(step=120, identity="dave")
    too_few = sweep(identity="erin")[:7]
    assert found_for(tmp_path, one_service + too_slow + too_few)["account_enumerated_in_burst"] == []


def test_a_repeated_sweep_is_not_new_but_another_identitys_failed_sweep_is(tmp_path):
    """The same calls an hour later are what this identity does; bob's calls are new for bob."""
    failed = sweep(start=3600 + 600, identity="bob", errorCode="AccessDenied")
    found = found_for(tmp_path, sweep() + sweep(start=3600) + failed)
    rows = found["account_enumerated_in_burst"]
    assert [(r["actor"].rsplit("/", 1)[1], len(r["event_ids"])) for r in rows] == [("alice", 9), ("bob", 9)]
    assert rows[0]["error_code"] is None
    assert rows[1]["error_code"] == "AccessDenied"


def test_burst_is_low_when_the_data_shows_nothing_earlier_for_the_identity(tmp_path):
    history = call("DescribeInstances", seconds=-3 * 3600)
    fresh = found_for(tmp_path, sweep())["account_enumerated_in_burst"]
    known = found_for(tmp_path / "known", [history] + sweep())["account_enumerated_in_burst"]
    assert [r["severity"] for r in fresh] == ["low"]
    assert "no earlier activity" in fresh[0]["summary"]
    assert [r["severity"] for r in known] == ["medium"]


def test_novelty_is_measured_per_role_not_per_session(tmp_path):
    """CI jobs get a new session name every run; the role keeps one history."""
    first = sweep(identity="role:Deploy/run-1")
    second = sweep(start=3600, identity="role:Deploy/run-2")
    found = found_for(tmp_path, first + second)
    assert fired_ids(found, "account_enumerated_in_burst") == ids(first)


def test_aws_services_acting_for_someone_and_the_console_are_kept_apart(tmp_path):
    acting_for_someone = [
        {"userIdentity": {"type": "AWSService", "invokedBy": "config.amazonaws.com"}, "sourceIPAddress": "config.amazonaws.com"},
        {"sourceIPAddress": "cloudformation.amazonaws.com"},
        {"sourceIPAddress": "AWS Internal"},
        {"userAgent": "AWS Internal"},
    ]
    console = [
        {"sessionCredentialFromConsole": "true", "userAgent": "Mozilla/5.0 (Macintosh) Firefox/128.0"},
        {"userAgent": "console.ec2.amazonaws.com"},
        {"userAgent": "EC2ConsoleFrontend, aws-internal/3 aws-sdk-java/1.11.848"},
    ]
    records, console_users = [], []
    for number, fields in enumerate(acting_for_someone + console):
        user = f"user{number}"
        batch = sweep(identity=user, **fields)
        if number == 1:
            for record in batch:
                record["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
        if number >= len(acting_for_someone):
            console_users.append(user)
        records += batch
    found = found_for(tmp_path, records)
    assert found["account_enumerated_in_burst"] == []
    rows = found["account_enumerated_from_console"]
    assert sorted(r["actor"].rsplit("/", 1)[1] for r in rows) == console_users
    assert {r["severity"] for r in rows} == {"low"}


def test_data_events_do_not_count_towards_a_burst(tmp_path):
    records = sweep()[:7] + [call("GetObject", "s3", 40, eventCategory="Data", managementEvent=False),
                             call("ListObjects", "s3", 45, eventCategory="Data", managementEvent=False)]
    assert found_for(tmp_path, records)["account_enumerated_in_burst"] == []


def test_burst_thresholds_are_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDTRAIL_RECON_BURST_NEW_ACTIONS", "5")
    monkeypatch.setenv("CLOUDTRAIL_RECON_BURST_SERVICES", "3")
    assert len(found_for(tmp_path, sweep()[:5])["account_enumerated_in_burst"]) == 1


# ---------------------------------------------------------------- AccessDenied storms

def test_storm_of_denied_calls_from_one_ip(tmp_path):
    storm = (denied(4) + denied(3, start=100, code="Client.UnauthorizedOperation")
             + denied(3, start=200, code="AccessDeniedException"))
    found = found_for(tmp_path, storm + [call("ListUsers", "iam", 300)])
    rows = found["api_calls_denied_in_burst"]
    assert len(rows) == 1
    assert set(rows[0]["event_ids"]) == ids(storm)
    assert rows[0]["error_code"] == "AccessDenied"
    assert rows[0]["severity"] == "medium"
    assert set(rows[0]["details"]["error_codes"]) == {"AccessDenied", "Client.UnauthorizedOperation",
                                                      "AccessDeniedException"}


def test_near_miss_storms_do_not_fire(tmp_path):
    records = (denied(9, identity="bob") + denied(5, identity="carol") + denied(5, identity="carol", ip="203.0.113.9")
               + denied(10, step=120, identity="dave")
               + [call("GetBucketPolicy", "s3", i * 10, "erin", errorCode="NoSuchBucketPolicy") for i in range(12)])
    assert found_for(tmp_path, records)["api_calls_denied_in_burst"] == []


def test_storm_from_the_console_is_low(tmp_path):
    records = denied(12, userAgent="console.amazonaws.com")
    assert [r["severity"] for r in found_for(tmp_path, records)["api_calls_denied_in_burst"]] == ["low"]


@needs_shared_data
@pytest.mark.parametrize("rule_id", ["AWS.CloudTrail.UnauthorizedAPICall", "AWS.IAMUser.ReconAccessDenied"])
def test_panther_threshold_rules_agree_with_a_storm_of_one(tmp_path, monkeypatch, rule_id):
    """Panther counts single denied calls towards a threshold; with the storm threshold at 1 the
    toolkit agrees on every labelled record, except that console calls come out low."""
    monkeypatch.setenv("CLOUDTRAIL_RECON_DENIED_CALLS", "1")
    rows = [row for row in labelled_records("panther/labelled_events.jsonl") if row["rule_id"] == rule_id]
    records = []
    for index, row in enumerate(rows):
        records.append(dict(row["event"], eventID=f"panther-{index}"))
    found = found_for(tmp_path, records)["api_calls_denied_in_burst"]
    severity = {event_id: f["severity"] for f in found for event_id in f["event_ids"]}
    for row, record in zip(rows, records):
        console = row["test_name"] == "Unauthorized API Call - From AWS console"
        assert (record["eventID"] in severity) == (row["expected"] or console), row["test_name"]
        if console:
            assert severity[record["eventID"]] == "low"


@needs_shared_data
def test_paced_denied_calls_of_traildiscover_are_not_a_storm(tmp_path):
    """TrailDiscover called one API every couple of minutes for hours: 200+ AccessDenied, never 10 in 10 minutes."""
    records = [row["event"] for row in labelled_records("traildiscover/labelled_events.jsonl") if row["event"].get("eventID")]
    found = found_for(tmp_path, records)
    assert found["api_calls_denied_in_burst"] == []
    assert sum(1 for r in records if (r.get("errorCode") or "").endswith(("AccessDenied", "UnauthorizedOperation"))) > 200


# ---------------------------------------------------------------- first GetCallerIdentity

def test_first_check_by_a_long_term_key_is_medium_after_history_low_without(tmp_path):
    used = call("ListBuckets", "s3", 0, "alice")
    first_alice = call("GetCallerIdentity", "sts", 60, "alice", sourceIPAddress="203.0.113.50")
    again = call("GetCallerIdentity", "sts", 120, "alice", sourceIPAddress="203.0.113.50")
    bob = call("GetCallerIdentity", "sts", 180, {**recon_user("bob"), "accessKeyId": "AKIABOBEXAMPLE000001"})
    found = found_for(tmp_path, [used, first_alice, again, bob])
    rows = {f["event_id"]: f for f in found["caller_identity_checked_by_new_key"]}
    assert set(rows) == {first_alice["eventID"], bob["eventID"]}
    assert rows[first_alice["eventID"]]["severity"] == "medium"
    assert rows[first_alice["eventID"]]["details"]["earlier_calls"] == 1
    assert rows[bob["eventID"]]["severity"] == "low"


def recon_user(name):
    return {"type": "IAMUser", "principalId": f"AIDA{name.upper()}", "accountId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "userName": name}


def test_temporary_key_is_reported_only_with_other_evidence_from_its_ip(tmp_path):
    lone = call("GetCallerIdentity", "sts", 0, "role:Deploy/ci-1")
    stolen = instance_call("GetCallerIdentity", "sts", 60)
    stolen["userIdentity"]["accessKeyId"] = "ASIASTOLENEXAMPLE001"
    used = instance_call("ListBuckets", "s3", 70)
    used["userIdentity"]["accessKeyId"] = "ASIASTOLENEXAMPLE001"
    found = found_for(tmp_path, [lone, stolen, used])
    rows = found["caller_identity_checked_by_new_key"]
    assert [(r["event_id"], r["severity"]) for r in rows] == [(stolen["eventID"], "high")]
    assert rows[0]["details"]["other_findings"] == ["instance_credentials_used_outside_instance"]


def test_first_check_before_the_window_is_not_new(tmp_path):
    earlier = call("GetCallerIdentity", "sts", 0, "alice")
    later = event("GetCallerIdentity", "sts.amazonaws.com", "2026-11-05T10:00:00Z", "alice")
    db = build_case(tmp_path, [earlier, later])
    since = dt.datetime(2026, 11, 4, tzinfo=dt.timezone.utc)
    assert detect(db, recon, since=since)["caller_identity_checked_by_new_key"] == []
    assert fired_ids(detect(db, recon), "caller_identity_checked_by_new_key") == {earlier["eventID"]}


# ---------------------------------------------------------------- offensive-tool user agents

def test_tool_user_agents_matched_case_insensitively_one_finding_per_identity_tool_and_ip(tmp_path):
    kali = [call("ListUsers", "iam", i, userAgent=KALI) for i in range(3)]
    truffle = call("GetCallerIdentity", "sts", 10, "bob", userAgent="TruffleHog")
    truffle_lower = call("GetCallerIdentity", "sts", 11, "bob", userAgent="trufflehog/3.63.0")
    prowler = call("GetAccountSummary", "iam", 20, "role:SecurityAudit/ProwlerAssessmentSession",
                   userAgent="Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux APN_1826889")
    found = found_for(tmp_path, kali + [truffle, truffle_lower, prowler, call("ListUsers", "iam", 30)])
    rows = {f["resource"]: f for f in found["api_called_from_offensive_tool"]}
    assert set(rows) == {"Kali Linux", "TruffleHog", "Prowler"}
    assert rows["Kali Linux"]["event_ids"] == [r["eventID"] for r in kali]
    assert rows["Kali Linux"]["severity"] == "high"
    assert set(rows["TruffleHog"]["event_ids"]) == {truffle["eventID"], truffle_lower["eventID"]}
    assert rows["Prowler"]["severity"] == "low"


def test_an_agent_matching_two_patterns_gives_one_finding_listing_both(tmp_path):
    both = call("ListUsers", "iam", 0, userAgent=KALI + " Pacu/1.5")
    rows = found_for(tmp_path, [both])["api_called_from_offensive_tool"]
    assert len(rows) == 1 and rows[0]["event_ids"] == [both["eventID"]]
    assert rows[0]["details"]["tools"] == ["Kali Linux", "Pacu"]


def test_llmjacking_clients_count_only_on_bedrock(tmp_path):
    bedrock = call("InvokeModel", "bedrock", 0, userAgent="axios/1.7.4")
    s3 = call("ListBuckets", "s3", 10, userAgent="axios/1.7.4")
    rows = found_for(tmp_path, [bedrock, s3])["api_called_from_offensive_tool"]
    assert [(r["event_ids"], r["severity"]) for r in rows] == [([bedrock["eventID"]], "medium")]


def test_analyst_patterns_from_the_environment(tmp_path, monkeypatch):
    ours = call("ListUsers", "iam", 0, userAgent="RedTeamKit/2.0 (internal)")
    db = build_case(tmp_path, [ours])
    assert detect(db, recon)["api_called_from_offensive_tool"] == []
    monkeypatch.setenv(recon_area.EXTRA_AGENTS_ENV, " redteamkit , ,other-tool")
    rows = detect(db, recon)["api_called_from_offensive_tool"]
    assert [(r["event_ids"], r["severity"]) for r in rows] == [([ours["eventID"]], "medium")]


# ---------------------------------------------------------------- instance credentials

def test_instance_credentials_from_a_public_ip_are_one_finding_per_role_and_ip(tmp_path):
    stolen = [instance_call("ListBuckets", "s3", 0), instance_call("GetObject", "s3", 30, eventCategory="Data"),
              instance_call("ListUsers", "iam", 60, errorCode="AccessDenied")]
    elsewhere = instance_call("ListBuckets", "s3", 90, ip="198.51.100.99")
    rows = found_for(tmp_path, stolen + [elsewhere])["instance_credentials_used_outside_instance"]
    by_ip = {r["source_ip"]: r for r in rows}
    assert set(by_ip) == {"203.0.113.7", "198.51.100.99"}
    assert by_ip["203.0.113.7"]["event_ids"] == [r["eventID"] for r in stolen]
    assert by_ip["203.0.113.7"]["severity"] == "high"
    assert by_ip["203.0.113.7"]["resource"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/web-app-role"
    assert by_ip["203.0.113.7"]["details"]["imds_delivery"] == ["1.0"]
    assert by_ip["203.0.113.7"]["details"]["failed_calls"] == 1


def test_instance_calls_from_inside_aws_or_the_agent_are_not_reported(tmp_path):
    def on(number, **kwargs):
        return instance_call(identity=f"role:web-app-role/i-0{number}1234567890abcde", **kwargs)
    records = [
        on(0, ip="10.0.1.50"),
        on(1, ip="172.20.3.4"),
        on(2, ip="AWS Internal"),
        on(3, ip="s3.amazonaws.com"),
        on(4, name="CreateControlChannel", service="ssmmessages"),
        on(5, name="UpdateInstanceInformation", service="ssm", ip="203.0.113.70"),
        instance_call(identity="role:web-app-role/deploy-session"),
        on(6, vpcEndpointId="vpce-0123456789abcdef0", ip="10.0.1.50", vpcEndpointAccountId=ACCOUNT),
        on(7, ip="203.0.113.71"),
    ]
    records[-1]["userIdentity"]["invokedBy"] = "eks.amazonaws.com"
    assert found_for(tmp_path, records)["instance_credentials_used_outside_instance"] == []


def test_another_accounts_vpc_endpoint_is_reported(tmp_path):
    record = instance_call(ip="10.9.8.7", vpcEndpointId="vpce-0aaaabbbbccccdddd", vpcEndpointAccountId="999988887777")
    rows = found_for(tmp_path, [record])["instance_credentials_used_outside_instance"]
    assert [r["event_ids"] for r in rows] == [[record["eventID"]]]
    assert "another account's VPC endpoint" in rows[0]["summary"]


def test_addresses_the_data_shows_to_be_the_instances_own_are_not_reported(tmp_path):
    agent = instance_call("UpdateInstanceInformation", "ssm", 0, ip="198.51.100.20")
    from_agent_ip = instance_call("ListBuckets", "s3", 10, ip="198.51.100.20")
    allocate = call("AllocateAddress", "ec2", 20, responseElements={"publicIp": "198.51.100.30",
                                                                    "allocationId": "eipalloc-0abc", "domain": "vpc"})
    associate = call("AssociateAddress", "ec2", 30, requestParameters={"instanceId": "i-0a1b2c3d4e5f67890",
                                                                       "allocationId": "eipalloc-0abc"})
    from_eip = instance_call("ListBuckets", "s3", 40, ip="198.51.100.30")
    launch = call("RunInstances", "ec2", 50, responseElements={"instancesSet": {"items": [
        {"instanceId": "i-0a1b2c3d4e5f67890", "privateIpAddress": "10.0.1.5", "ipAddress": "198.51.100.40"}]}})
    from_launch = instance_call("ListBuckets", "s3", 60, ip="198.51.100.40")
    outside = instance_call("ListBuckets", "s3", 70, ip="203.0.113.7")
    found = found_for(tmp_path, [agent, from_agent_ip, allocate, associate, from_eip, launch, from_launch, outside])
    assert fired_ids(found, "instance_credentials_used_outside_instance") == {outside["eventID"]}


def test_an_ip_shared_by_several_instances_looks_like_a_nat_gateway_and_is_low(tmp_path):
    records = [instance_call(seconds=i, ip="198.51.100.60", identity=f"role:batch-role/i-0{i}1234567890abcde")
               for i in range(3)]
    rows = found_for(tmp_path, records)["instance_credentials_used_outside_instance"]
    assert [(r["severity"], len(r["details"]["instances"])) for r in rows] == [("low", 3)]


# ---------------------------------------------------------------- real records

@needs_shared_data
def test_stratus_red_team_techniques_fire(tmp_path):
    db = tmp_path / "stratus.db"
    assert ingest(db, SHARED_DATA / "stratus-red-team" / "s3") == 0
    found = detect(db, recon)
    labels = [orjson.loads(line) for line in (SHARED_DATA / "stratus-red-team" / "labels.jsonl").read_bytes().splitlines()]
    by_technique = {}
    for label in labels:
        by_technique.setdefault(label["technique"], set()).add(label["eventID"])
    steal = by_technique["aws.credential-access.ec2-steal-instance-credentials"]
    instance = fired_ids(found, "instance_credentials_used_outside_instance")
    assert instance and instance <= steal
    # The stolen role session's first call is GetCallerIdentity: high, because the same key is behind
    # the instance finding.
    checks = {f["event_id"]: f["severity"] for f in found["caller_identity_checked_by_new_key"]}
    assert checks["b379479b-05c9-4c3c-af4b-cbd43acf29e1"] == "high"
    # Downloading user data with a role that may not: 15 Client.UnauthorizedOperation in seconds.
    user_data = by_technique["aws.discovery.ec2-download-user-data"]
    storms = [f for f in found["api_calls_denied_in_burst"] if set(f["event_ids"]) <= user_data]
    assert len(storms) == 1 and len(storms[0]["event_ids"]) == 15
    # Every Stratus call carries its user agent.
    assert fired_ids(found, "api_called_from_offensive_tool") >= steal


@needs_shared_data
def test_otrf_ec2_proxy_story_instance_credentials_found_console_browsing_low(tmp_path):
    db = tmp_path / "otrf.db"
    assert ingest(db, SHARED_DATA / "otrf" / "s3" / "ec2_proxy_s3_exfiltration") == 0
    found = detect(db, recon)
    labels = labelled_records("otrf/labels_ec2_proxy_s3_exfiltration.jsonl")
    malicious = {row["eventID"] for row in labels if row["label"] == "malicious"}
    assert len(malicious) == 11
    assert fired_ids(found, "instance_credentials_used_outside_instance") == malicious
    # The attacker made two List calls and read objects (data events): no discovery burst.
    assert found["account_enumerated_in_burst"] == []
    # pedro's EC2 console browsing is reported apart, at low severity, and nothing else fires on it.
    console = found["account_enumerated_from_console"]
    assert console and all(f["severity"] == "low" for f in console)
    benign = {row["eventID"] for row in labels if row["label"] != "malicious"}
    assert fired_ids(found, "account_enumerated_from_console") <= benign
    others = {e for d, rows in found.items() if d != "account_enumerated_from_console" for f in rows for e in f["event_ids"]}
    assert not others & benign


@needs_shared_data
def test_panther_imds_record_fires_on_its_own(tmp_path):
    """The one IMDS record the agreement table lists as a difference fires when the SSM-agent record
    with the same instance and IP is not in the case."""
    row = next(row for row in labelled_records("panther/labelled_events.jsonl")
               if row["rule_id"] == "AWS.CloudTrail.IMDSCredentialExfiltration"
               and row["test_name"] == "IMDS Credentials Used From Public IP")
    record = dict(row["event"], eventID="panther-imds")
    assert fired_ids(found_for(tmp_path, [record]), "instance_credentials_used_outside_instance") == {"panther-imds"}


# ---------------------------------------------------------------- the script

def test_script_writes_report_charts_and_findings(tmp_path, capsys):
    # A second identity with one denied call: a chart of one bar is not drawn (charts.worth_drawing).
    records = (sweep(identity="bob", userAgent=KALI) + denied(12, start=100, identity="bob")
               + denied(1, start=900, identity="carol")
               + [instance_call(seconds=300)] + sweep(start=600, userAgent="console.ec2.amazonaws.com"))
    db = build_case(tmp_path, records)
    assert recon.main(["analyze_recon.py", str(db), "2026-11-02", "2026-11-02"]) == 0
    printed = capsys.readouterr().out
    report = next((tmp_path / "reports").glob("recon_report-*.md"))
    text = report.read_text()
    assert str(report) in printed
    for detection in rules.load_area("recon").detections:
        assert detection.id in text
    assert "CLOUDTRAIL_RECON_EXTRA_AGENTS" in text
    for chart in ("recon_activity", "recon_discovery_by_identity", "recon_denied_by_identity"):
        assert list((tmp_path / "reports").glob(f"{chart}-*.png")), chart
    assert stored(db, "select distinct detector from findings") == [("recon",)]
    count = stored(db, "select count(*) from findings")[0][0]
    assert count >= 5
    # A rerun replaces the detector's findings instead of adding to them.
    assert recon.main(["analyze_recon.py", str(db)]) == 0
    assert stored(db, "select count(*) from findings")[0][0] == count


def test_bad_window_is_a_usage_error(tmp_path, capsys):
    db = build_case(tmp_path, [call("ListUsers", "iam")])
    assert recon.main(["analyze_recon.py", str(db), "yesterday"]) == 2
    assert "cannot read 'yesterday'" in capsys.readouterr().err


# ---------------------------------------------------------------- CloudTrail Insights

def insight(state, shared, insight_type="ApiCallRateInsight", seconds=0):
    """An Insights record as AWS writes it: no userIdentity, the API and its attributions in insightDetails."""
    return {"eventVersion": "1.08", "eventTime": at(seconds), "awsRegion": "us-east-1",
            "eventID": f"insight-{state}-{shared}", "eventType": "AwsCloudTrailInsight",
            "recipientAccountId": ACCOUNT, "sharedEventID": shared, "eventCategory": "Insight",
            "insightDetails": {"state": state, "eventSource": "secretsmanager.amazonaws.com",
                               "eventName": "GetSecretValue", "insightType": insight_type,
                               "insightContext": {"statistics": {"baseline": {"average": 0.04},
                                                                 "insight": {"average": 6.8}},
                                                  "attributions": [
                                                      {"attribute": "userAgent", "insight": [{"value": "aws-cli"}]},
                                                      {"attribute": "userIdentityArn",
                                                       "insight": [{"value": f"arn:aws:iam::{ACCOUNT}:user/eve"}]}]}}}


def test_insight_start_and_end_are_one_finding_naming_the_identity(tmp_path):
    start, end = insight("Start", "s1"), insight("End", "s1", seconds=300)
    errors = insight("Start", "s2", insight_type="ApiErrorRateInsight", seconds=600)
    ordinary = call("GetSecretValue", "secretsmanager", 10)
    rows = found_for(tmp_path, [start, end, errors, ordinary])["api_activity_flagged_by_insights"]
    by_id = {r["event_id"]: r for r in rows}
    assert by_id[start["eventID"]]["event_ids"] == [start["eventID"], end["eventID"]]
    assert by_id[start["eventID"]]["actor"] == f"arn:aws:iam::{ACCOUNT}:user/eve"
    assert by_id[start["eventID"]]["severity"] == "low" and by_id[errors["eventID"]]["severity"] == "medium"
    assert len(rows) == 2
