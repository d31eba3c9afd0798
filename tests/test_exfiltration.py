"""Exfiltration detections: positives and near-miss negatives for each, real records from
../shared/data (Stratus Red Team, OTRF, TrailDiscover), and the script end to end."""
import datetime as dt
import urllib.parse

import orjson
import pytest

import analyze_exfiltration as exfil
import detections
import rules.exfiltration as exfil_rules
from conftest import (ACCOUNT, SHARED_DATA, build_case, detect, event, fired_ids, ingest, labelled_records,
                      needs_shared_data, stored)

OTHER = "444455556666"


def at(minutes, seconds=0):
    start = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)
    return (start + dt.timedelta(minutes=minutes, seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def found_for(tmp_path, records, **window):
    return detect(build_case(tmp_path, records), "exfiltration", **window)


def by_event(found, detection_id):
    return {f["event_id"]: f for f in found[detection_id]}


def ec2_share(name, attribute, resource_key, resource_id, items, operation="add", **fields):
    return event(name, "ec2.amazonaws.com", readOnly=False, requestParameters={
        resource_key: resource_id, "attributeType": attribute.upper() if name == "ModifySnapshotAttribute" else attribute,
        attribute: {operation: {"items": items}}}, responseElements={"_return": True}, **fields)


def snapshot_share(items, operation="add", **fields):
    return ec2_share("ModifySnapshotAttribute", "createVolumePermission", "snapshotId", "snap-0123", items,
                     operation, **fields)


def image_share(items, operation="add", **fields):
    return ec2_share("ModifyImageAttribute", "launchPermission", "imageId", "ami-0123", items, operation, **fields)


def rds_share(values, name="ModifyDBSnapshotAttribute", key="valuesToAdd", **fields):
    identifier = "dBClusterSnapshotIdentifier" if "Cluster" in name else "dBSnapshotIdentifier"
    return event(name, "rds.amazonaws.com", readOnly=False,
                 requestParameters={identifier: "prod-db-snap", "attributeName": "restore", key: values}, **fields)


# ---------------------------------------------------------------- snapshots and AMIs

def test_snapshot_and_ami_shares_by_target(tmp_path):
    to_account = snapshot_share([{"userId": OTHER}])
    public_and_account = snapshot_share([{"userId": OTHER}, {"group": "all"}, {"userId": "777788889999"}], time=at(1))
    removed = snapshot_share([{"userId": OTHER}], operation="remove", time=at(2))
    to_itself = snapshot_share([{"userId": ACCOUNT}], time=at(3))
    denied = snapshot_share([{"group": "all"}], time=at(4), errorCode="Client.UnauthorizedOperation",
                            errorMessage="You are not authorized to perform this operation.")
    ami_to_org = image_share([{"organizationArn": "arn:aws:organizations::999988887777:organization/o-abc123"}],
                             time=at(5))
    ami_public = image_share([{"group": "all"}], time=at(6))
    ami_description = event("ModifyImageAttribute", "ec2.amazonaws.com", time=at(7), readOnly=False,
                            requestParameters={"imageId": "ami-0123", "attributeType": "description",
                                               "description": {"value": "golden image"}})
    found = found_for(tmp_path, [to_account, public_and_account, removed, to_itself, denied, ami_to_org, ami_public,
                                 ami_description])
    snapshots = by_event(found, "ebs_snapshot_shared")
    assert set(snapshots) == {to_account["eventID"], public_and_account["eventID"], denied["eventID"]}
    assert snapshots[to_account["eventID"]]["severity"] == "high"
    several = snapshots[public_and_account["eventID"]]
    assert several["severity"] == "critical" and several["event_ids"] == [public_and_account["eventID"]]
    assert several["details"]["accounts_added"] == [OTHER, "777788889999"]
    assert snapshots[denied["eventID"]]["error_code"] == "Client.UnauthorizedOperation"
    images = by_event(found, "ami_shared")
    assert {e: f["severity"] for e, f in images.items()} == {ami_to_org["eventID"]: "medium",
                                                           ami_public["eventID"]: "critical"}


def test_rds_snapshot_shares_and_denied_attempt_without_parameters(tmp_path):
    shared = rds_share([OTHER])
    public = rds_share(["all"], name="ModifyDBClusterSnapshotAttribute", time=at(1))
    unshared = rds_share([OTHER], key="valuesToRemove", time=at(2))
    nobody = rds_share([], time=at(3))
    denied = event("ModifyDBSnapshotAttribute", "rds.amazonaws.com", time=at(4), errorCode="AccessDenied",
                   errorMessage="not authorized to perform: rds:ModifyDBSnapshotAttribute", readOnly=False)
    found = by_event(found_for(tmp_path, [shared, public, unshared, nobody, denied]), "rds_snapshot_shared")
    assert {e: f["severity"] for e, f in found.items()} == {
        shared["eventID"]: "high", public["eventID"]: "critical", denied["eventID"]: "medium"}
    assert "parameters not recorded" in found[denied["eventID"]]["summary"]
    assert found[denied["eventID"]]["error_code"] == "AccessDenied"


# ---------------------------------------------------------------- bucket policies

def bucket_policy(statements, as_string=False, url_encoded=False, **fields):
    policy = {"Version": "2012-10-17", "Statement": statements}
    value = orjson.dumps(policy).decode() if as_string or url_encoded else policy
    if url_encoded:
        value = urllib.parse.quote(value)
    return event("PutBucketPolicy", "s3.amazonaws.com", readOnly=False, requestParameters={
        "bucketName": "customer-data", "bucketPolicy": value, "Host": "customer-data.s3.amazonaws.com", "policy": ""},
        **fields)


def allow(principal, action="s3:GetObject", **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": action,
            "Resource": "arn:aws:s3:::customer-data/*"} | extra


def test_bucket_policy_public_or_other_account(tmp_path):
    public = bucket_policy([allow("*")])
    other_as_string = bucket_policy([allow({"AWS": f"arn:aws:iam::{OTHER}:root"}, "s3:*")], as_string=True, time=at(1))
    other_url_encoded = bucket_policy([allow({"AWS": [OTHER]})], url_encoded=True, time=at(2))
    narrowed = bucket_policy([allow({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})],
                             time=at(3))
    open_condition = bucket_policy([allow("*", Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})], time=at(4))
    not_principal = bucket_policy([{"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                    "Action": "s3:GetObject", "Resource": "*"}], time=at(5))
    several = bucket_policy([allow({"Service": "cloudtrail.amazonaws.com"}), allow("*"),
                             allow({"AWS": f"arn:aws:iam::{OTHER}:role/reader"})], time=at(6))
    denied = bucket_policy([allow("*")], time=at(7), errorCode="AccessDenied", errorMessage="Access Denied")
    own_and_service = bucket_policy([allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}),
                                     allow({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject")], time=at(8))
    deny_everyone = bucket_policy([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}], time=at(9))
    found = by_event(found_for(tmp_path, [public, other_as_string, other_url_encoded, narrowed, open_condition,
                                          not_principal, several, denied, own_and_service, deny_everyone]),
                     "bucket_policy_granted_public_or_cross_account")
    assert {e: f["severity"] for e, f in found.items()} == {
        public["eventID"]: "critical", other_as_string["eventID"]: "high", other_url_encoded["eventID"]: "high",
        narrowed["eventID"]: "low", open_condition["eventID"]: "critical", not_principal["eventID"]: "critical",
        several["eventID"]: "critical", denied["eventID"]: "critical"}
    assert found[several["eventID"]]["details"]["other_accounts"] == [OTHER]
    assert found[narrowed["eventID"]]["details"]["public_statements"][0]["restricting_conditions"] == [
        "StringEquals aws:PrincipalOrgID"]
    assert found[denied["eventID"]]["error_code"] == "AccessDenied"
    assert "customer-data" in found[public["eventID"]]["summary"]


# ---------------------------------------------------------------- Block Public Access

def public_access_block(name="PutBucketPublicAccessBlock", configuration=None, **fields):
    parameters = {"bucketName": "customer-data", "publicAccessBlock": "", "Host": "customer-data.s3.amazonaws.com"}
    if configuration is not None:
        parameters["PublicAccessBlockConfiguration"] = {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"} | configuration
    if "Account" in name:
        parameters.pop("bucketName")
    return event(name, "s3.amazonaws.com", readOnly=False, requestParameters=parameters, **fields)


ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def test_public_access_block_removed_or_weakened(tmp_path):
    deleted = public_access_block("DeleteBucketPublicAccessBlock")
    weakened = public_access_block(configuration=ALL_ON | {"BlockPublicPolicy": False, "RestrictPublicBuckets": False},
                                   time=at(1))
    partly_set = public_access_block(configuration={"BlockPublicAcls": True}, time=at(2))
    all_on = public_access_block(configuration=ALL_ON, time=at(3))
    account_level = public_access_block("PutAccountPublicAccessBlock", configuration=ALL_ON | {"BlockPublicAcls": False},
                                        time=at(4))
    denied = public_access_block("DeleteBucketPublicAccessBlock", time=at(5), errorCode="AccessDenied",
                                 errorMessage="Access Denied")
    found = by_event(found_for(tmp_path, [deleted, weakened, partly_set, all_on, account_level, denied]),
                     "public_access_block_removed")
    assert {e: f["severity"] for e, f in found.items()} == {
        deleted["eventID"]: "medium", weakened["eventID"]: "medium", partly_set["eventID"]: "medium",
        account_level["eventID"]: "high", denied["eventID"]: "medium"}
    assert found[weakened["eventID"]]["details"]["turned_off"] == ["BlockPublicPolicy", "RestrictPublicBuckets"]
    assert found[partly_set["eventID"]]["details"]["turned_off"] == [
        "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
    assert found[account_level["eventID"]]["resource"] == f"account {ACCOUNT}"
    assert found[denied["eventID"]]["error_code"] == "AccessDenied"


# ---------------------------------------------------------------- replication

def replication(rules, bucket="customer-data", **fields):
    return event("PutBucketReplication", "s3.amazonaws.com", readOnly=False, requestParameters={
        "bucketName": bucket, "replication": "", "Host": f"{bucket}.s3.amazonaws.com",
        "ReplicationConfiguration": {"Role": f"arn:aws:iam::{ACCOUNT}:role/replication", "Rule": rules}}, **fields)


def rule(bucket, account=None):
    destination = {"Bucket": f"arn:aws:s3:::{bucket}"} | ({"Account": account} if account else {})
    return {"ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""}, "Destination": destination}


def test_replication_to_another_account(tmp_path):
    external = replication(rule("attacker-bucket", OTHER))
    external_in_list = replication([rule("dr-copy", ACCOUNT), rule("attacker-bucket", OTHER)], time=at(1))
    own_account = replication(rule("dr-copy", ACCOUNT), time=at(2))
    owner_seen = replication(rule("known-bucket"), time=at(3))
    owner_unknown = replication(rule("mystery-bucket"), time=at(4))
    owner_seen_elsewhere = replication(rule("their-bucket"), time=at(5))
    denied = event("PutBucketReplication", "s3.amazonaws.com", at(6), readOnly=False, errorCode="AccessDenied",
                   errorMessage="Access Denied")
    buckets_seen = [event("PutBucketVersioning", "s3.amazonaws.com", time=at(0), readOnly=False,
                          requestParameters={"bucketName": name},
                          resources=[{"accountId": owner, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{name}"}])
                    for name, owner in (("known-bucket", ACCOUNT), ("their-bucket", OTHER))]
    found = by_event(found_for(tmp_path, [external, external_in_list, own_account, owner_seen, owner_unknown,
                                          owner_seen_elsewhere, denied] + buckets_seen),
                     "bucket_replicated_to_other_account")
    assert {e: f["severity"] for e, f in found.items()} == {
        external["eventID"]: "high", external_in_list["eventID"]: "high", owner_unknown["eventID"]: "low",
        owner_seen_elsewhere["eventID"]: "high", denied["eventID"]: "medium"}
    assert found[denied["eventID"]]["error_code"] == "AccessDenied"
    assert OTHER in found[external_in_list["eventID"]]["summary"]
    assert "dr-copy" not in found[external_in_list["eventID"]]["summary"]


# ---------------------------------------------------------------- secrets

def get_secret(name, minutes, identity="role:App/attacker", **fields):
    return event("GetSecretValue", "secretsmanager.amazonaws.com", at(minutes), identity,
                 requestParameters={"secretId": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbC123"},
                 **fields)


def test_mass_secret_read_is_one_finding_per_burst(tmp_path):
    burst = [get_secret(f"prod/db-{i}", i) for i in range(10)]
    burst[3].update(errorCode="AccessDenied", errorMessage="not authorized")
    later_burst = [get_secret(f"prod/api-{i}", 300 + i) for i in range(6)]
    later_burst += [event("GetParameters", "ssm.amazonaws.com", at(306), "role:App/attacker", requestParameters={
        "names": ["/prod/a", "/prod/b", "/prod/c", "/prod/d"], "withDecryption": True})]
    slow = [get_secret(f"prod/db-{i}", 40 * i, identity="role:Batch/nightly") for i in range(10)]
    nine = [get_secret(f"prod/db-{i}", i, identity="bob") for i in range(9)]
    plain_parameters = [event("GetParameters", "ssm.amazonaws.com", at(i), "carol", requestParameters={
        "names": [f"/config/{i}-{n}" for n in range(5)]}) for i in range(3)]
    service = [get_secret(f"prod/db-{i}", i, identity={"type": "AWSService", "invokedBy": "rds.amazonaws.com"})
               for i in range(12)]
    found = found_for(tmp_path, burst + later_burst + slow + nine + plain_parameters + service)["secrets_read_in_bulk"]
    assert len(found) == 2
    first, second = found
    assert first["event_ids"] == [r["eventID"] for r in burst]
    assert first["severity"] == "high" and first["error_code"] is None
    assert first["details"]["failed_calls"] == 1 and first["details"]["distinct_items"] == 10
    assert "prod/db-0" in first["resource"] and "AbC123" not in first["resource"]
    assert second["event_ids"] == [r["eventID"] for r in later_burst]
    assert second["details"]["distinct_items"] == 10 and "parameters and secrets" in second["summary"]


def test_repeated_reads_of_one_secret_reach_the_calls_threshold(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDTRAIL_SECRET_READ_CALLS", "20")
    reads = [get_secret("prod/db", i / 2) for i in range(20)]
    denied_passwords = [event("GetPasswordData", "ec2.amazonaws.com", at(200 + i / 10), "role:Ops/x",
                              requestParameters={"instanceId": f"i-{i:04d}"}, errorCode="Client.UnauthorizedOperation")
                        for i in range(10)]
    found = found_for(tmp_path, reads + denied_passwords)["secrets_read_in_bulk"]
    assert [(f["severity"], len(f["event_ids"]), f["error_code"]) for f in found] == [
        ("medium", 20, None), ("high", 10, "Client.UnauthorizedOperation")]


def test_batch_read_by_filter_grouped_and_catch_all_is_high(tmp_path):
    pages = [event("BatchGetSecretValue", "secretsmanager.amazonaws.com", at(0, i), requestParameters={
        "filters": [{"key": "tag-key", "values": ["Team"]}]} | ({"nextToken": "abc"} if i else {})) for i in range(3)]
    catch_all = event("BatchGetSecretValue", "secretsmanager.amazonaws.com", at(5), requestParameters={
        "filters": [{"key": "tag-key", "values": ["!NoSuchTag"]}]})
    by_name = event("BatchGetSecretValue", "secretsmanager.amazonaws.com", at(6), requestParameters={
        "secretIdList": ["prod/a", "prod/b"]})
    found = found_for(tmp_path, pages + [catch_all, by_name])["secrets_batch_read_by_filter"]
    assert [(f["event_ids"], f["severity"]) for f in found] == [
        ([p["eventID"] for p in pages], "medium"), ([catch_all["eventID"]], "high")]


# ---------------------------------------------------------------- S3 object reads

def get_object(key, time, identity="role:App/reader", bucket="customer-data", size=1000.0, **fields):
    return event("GetObject", "s3.amazonaws.com", time, identity, eventCategory="Data", managementEvent=False,
                 readOnly=True, requestParameters={"bucketName": bucket, "key": key,
                                                   "Host": f"{bucket}.s3.amazonaws.com"},
                 additionalEventData={"bytesTransferredOut": size, "AuthenticationMethod": "AuthHeader"},
                 resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
                 **fields)


def test_object_reads_above_fixed_or_usual_volume(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDTRAIL_OBJECT_READ_CALLS", "50")
    monkeypatch.setenv("CLOUDTRAIL_OBJECT_READ_BASELINE_MINIMUM", "20")
    many = [get_object(f"k{i}", at(0, i), identity="role:Exfil/many") for i in range(50)]
    just_under = [get_object(f"k{i}", at(0, i), identity="role:Exfil/under") for i in range(49)]
    big_file = [get_object("dump.sql", at(5), identity="role:Exfil/big", size=2.0 * 1024 ** 3)]
    usual = [get_object(f"u{h}-{i}", at(60 * h), identity="role:App/usual") for h in range(1, 5) for i in range(2)]
    unusual = [get_object(f"x{i}", at(400, i), identity="role:App/usual") for i in range(25)]
    found = found_for(tmp_path, many + just_under + big_file + usual + unusual)["bucket_objects_read_in_bulk"]
    rows = {f["actor"].rsplit("/", 1)[-1]: f for f in found}
    assert {session: (f["severity"], f["event_ids"]) for session, f in rows.items()} == {
        "many": ("medium", [r["eventID"] for r in many]), "big": ("medium", [big_file[0]["eventID"]]),
        "usual": ("medium", [r["eventID"] for r in unusual])}
    assert rows["usual"]["summary"].endswith("peak 25 within 60 minutes up to 2026-11-02 16:40; it usually reads 2 per window")
    assert rows["big"]["details"]["bytes_out"] == 2.0 * 1024 ** 3


def test_heavy_reader_is_judged_against_its_usual_volume(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDTRAIL_OBJECT_READ_CALLS", "30")
    routine = [get_object(f"h{h}-{i}", at(120 * h, i), identity="role:Backup/nightly") for h in range(4) for i in range(30)]
    spike = [get_object(f"s{i}", at(600, i / 10), identity="role:Backup/nightly") for i in range(300)]
    db = build_case(tmp_path, routine)
    assert detect(db, "exfiltration")["bucket_objects_read_in_bulk"] == []
    found = found_for(tmp_path / "spike", routine + spike)["bucket_objects_read_in_bulk"]
    assert [(f["severity"], len(f["event_ids"])) for f in found] == [("medium", 300)]


# ---------------------------------------------------------------- real records

# Stratus technique: (detection, the technique's calls it must fire on; its other calls, such as
# AssumeRole or ListSecrets, are set-up or discovery).
STRATUS = {
    "aws.exfiltration.ec2-share-ebs-snapshot": ("ebs_snapshot_shared", {"ModifySnapshotAttribute"}),
    "aws.exfiltration.ec2-share-ami": ("ami_shared", {"ModifyImageAttribute"}),
    "aws.exfiltration.rds-share-snapshot": ("rds_snapshot_shared", {"ModifyDBSnapshotAttribute"}),
    "aws.credential-access.secretsmanager-retrieve-secrets": ("secrets_read_in_bulk", {"GetSecretValue"}),
    "aws.credential-access.secretsmanager-batch-retrieve-secrets": ("secrets_batch_read_by_filter",
                                                                    {"BatchGetSecretValue"}),
    "aws.credential-access.ssm-retrieve-securestring-parameters": ("secrets_read_in_bulk", {"GetParameters"}),
    "aws.credential-access.ec2-get-password-data": ("secrets_read_in_bulk", {"GetPasswordData"}),
}


@pytest.fixture(scope="module")
def real_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    db = folder / "case.db"
    assert ingest(db, SHARED_DATA / "stratus-red-team" / "s3", SHARED_DATA / "otrf" / "s3") == 0
    return db


@needs_shared_data
def test_stratus_techniques_fire_their_detections(real_case):
    found = detect(real_case, "exfiltration")
    labels = labelled_records("stratus-red-team/labels.jsonl")
    for technique, (detection_id, calls) in STRATUS.items():
        wanted = {row["eventID"] for row in labels if row["technique"] == technique and row["eventName"] in calls}
        assert wanted and wanted <= fired_ids(found, detection_id), technique
    # Nothing else in the Stratus and OTRF records is a share, a policy or a bulk read.
    assert all(len(found[d]) == 1 for d in ("ebs_snapshot_shared", "ami_shared", "rds_snapshot_shared"))
    assert len(found["secrets_read_in_bulk"]) == 3 and len(found["secrets_batch_read_by_filter"]) == 1


@needs_shared_data
def test_otrf_object_reads_are_too_few_and_honey_bucket_has_no_reads(real_case):
    found = detect(real_case, "exfiltration")
    assert found["bucket_objects_read_in_bulk"] == []
    con, _ = detections.open_scope(str(real_case), None, None)
    try:
        assert exfil_rules.data_event_notes(con)[0].startswith("S3 data events in scope: 151, of which 2 GetObject")
    finally:
        con.close()


@needs_shared_data
def test_traildiscover_denied_share_attempts(tmp_path):
    rows = [row for row in labelled_records("traildiscover/labelled_events.jsonl")
            if row["event_name"] in ("ModifySnapshotAttribute", "ModifyDBSnapshotAttribute", "ModifyImageAttribute",
                                     "PutBucketPolicy", "GetSecretValue", "GetPasswordData")]
    found = found_for(tmp_path, [row["event"] for row in rows])
    by_name = {row["event_name"]: row["event"]["eventID"] for row in rows}
    # The denied RDS call recorded no parameters: a possible share, reported as an attempt.
    assert fired_ids(found, "rds_snapshot_shared") == {by_name["ModifyDBSnapshotAttribute"]}
    # Removing a permission, a malformed AMI call and an empty policy are not shares.
    assert found["ebs_snapshot_shared"] == [] and found["ami_shared"] == []
    assert found["bucket_policy_granted_public_or_cross_account"] == []


# ---------------------------------------------------------------- the script

def test_script_writes_report_charts_and_findings(tmp_path, capsys):
    records = [get_secret(f"prod/db-{i}", i) for i in range(12)]
    records += [snapshot_share([{"group": "all"}], time=at(20)), bucket_policy([allow("*")], time=at(21))]
    db = build_case(tmp_path, records)
    assert exfil.main(["analyze_exfiltration.py", str(db), "2026-11-02", "2026-11-02"]) == 0
    printed = capsys.readouterr().out
    report = next((tmp_path / "reports").glob("exfiltration_report-*.md"))
    text = report.read_text()
    assert str(report) in printed
    assert "secrets_read_in_bulk" in text and "ebs_snapshot_shared" in text
    assert "**There are no S3 data events in the window analysed**" in text
    assert list((tmp_path / "reports").glob("exfiltration_activity-*.png"))
    assert list((tmp_path / "reports").glob("exfiltration_secret_reads-*.png"))
    assert not list((tmp_path / "reports").glob("exfiltration_object_reads-*.png"))
    assert stored(db, "select distinct detector from findings") == [("exfiltration",)]
    count = stored(db, "select count(*) from findings")[0][0]
    assert count == 3
    assert exfil.main(["analyze_exfiltration.py", str(db)]) == 0
    assert stored(db, "select count(*) from findings")[0][0] == count


def test_missing_database_is_a_one_line_error(tmp_path, capsys):
    assert exfil.main(["analyze_exfiltration.py", str(tmp_path / "nope.db")]) == 1
    assert "no such database - run analyze_ingest.py first" in capsys.readouterr().err
