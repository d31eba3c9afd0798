"""Impact area (rules/impact/): each detection fires on a realistic attack and stays quiet on
the owner's routine near miss."""
import pytest

import orjson

from area_rules import run_area
from conftest import ACCOUNT, build_case, event

S3 = "s3.amazonaws.com"
ATTACKER = "role:stolen-app-role/i-0abc"


def s3_data(name, bucket, key, time, identity=ATTACKER, **parameters):
    return event(name, S3, time=time, identity=identity, eventCategory="Data", managementEvent=False,
                 readOnly=False, requestParameters={"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com",
                                                    "key": key, **parameters},
                 resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}])


def found(tmp_path, records, **env):
    return run_area(build_case(tmp_path, records), "impact")


def ids(records):
    return {r["eventID"] for r in records}


# ------------------------------------------------------------------ S3 versioning

def versioning(status, time="2026-11-02T10:00:00Z", identity=ATTACKER, bucket="finance-data", mfa=None):
    configuration = {"Status": status, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
    if mfa:
        configuration["MfaDelete"] = mfa
    return event("PutBucketVersioning", S3, time=time, identity=identity,
                 requestParameters={"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "versioning": "",
                                    "VersioningConfiguration": configuration})


def test_versioning_suspended_fires(tmp_path):
    suspend = versioning("Suspended")
    [finding] = found(tmp_path, [suspend])["s3_versioning_suspended"]
    assert finding["event_id"] == suspend["eventID"] and finding["severity"] == "high"
    assert "versioning suspended" in finding["summary"]


def test_versioning_enabled_or_set_up_on_a_new_bucket_is_quiet(tmp_path):
    create = event("CreateBucket", S3, time="2026-11-02T09:59:00Z", identity="role:terraform/ci",
                   requestParameters={"bucketName": "scratch-build", "Host": "scratch-build.s3.amazonaws.com"})
    records = [versioning("Enabled"), create,
               versioning("Suspended", identity="role:terraform/ci", bucket="scratch-build")]
    assert found(tmp_path, records)["s3_versioning_suspended"] == []


# ------------------------------------------------------------------ lifecycle

def lifecycle(rules, bucket="finance-data", identity=ATTACKER, time="2026-11-02T10:05:00Z"):
    return event("PutBucketLifecycle", S3, time=time, identity=identity,
                 requestParameters={"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "lifecycle": "",
                                    "LifecycleConfiguration": {"Rule": rules}})


def test_lifecycle_expiring_the_whole_bucket_fires_high(tmp_path):
    # Codefinger: every object (and every old version) deleted within a week.
    record = lifecycle({"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""},
                        "Expiration": {"Days": 7}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}})
    [finding] = found(tmp_path, [record])["s3_lifecycle_expires_objects"]
    assert finding["severity"] == "high" and "within 1 day(s)" in finding["summary"]


def test_lifecycle_on_a_prefix_is_medium(tmp_path):
    record = lifecycle([{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}])
    [finding] = found(tmp_path, [record])["s3_lifecycle_expires_objects"]
    assert finding["severity"] == "medium"


def test_owners_routine_lifecycle_rule_is_quiet(tmp_path):
    routine = lifecycle([
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Transition": {"Days": 30, "StorageClass": "GLACIER"}, "Expiration": {"Days": 365},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 90}},
        {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "old-test", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}},
    ], identity="alice")
    assert found(tmp_path, [routine])["s3_lifecycle_expires_objects"] == []


# ------------------------------------------------------------------ mass deletion

def test_burst_of_deletions_fires_once(tmp_path):
    deletes = [s3_data("DeleteObject", "finance-data", f"ledger/{n:04d}.csv", f"2026-11-02T10:{n // 10:02d}:{n % 10 * 6:02d}Z")
               for n in range(60)]
    [finding] = found(tmp_path, deletes)["s3_objects_deleted_in_burst"]
    assert set(finding["event_ids"]) == ids(deletes)
    assert finding["summary"].startswith("60 delete call(s) on bucket finance-data")


def test_single_planned_deletion_and_slow_clean_up_are_quiet(tmp_path):
    # one deletion, and a nightly job deleting one object an hour apart
    records = [s3_data("DeleteObject", "finance-data", "old-report.pdf", "2026-11-02T10:00:00Z", identity="alice")]
    records += [s3_data("DeleteObject", "tmp-bucket", f"t{n}", f"2026-11-0{1 + n // 24}T{n % 24:02d}:30:00Z",
                        identity="role:cleanup/job") for n in range(60)]
    assert found(tmp_path, records)["s3_objects_deleted_in_burst"] == []


# ------------------------------------------------------------------ SSE-C

def sse_c_copy(n, bucket="finance-data", identity=ATTACKER):
    record = s3_data("CopyObject", bucket, f"ledger/{n:04d}.csv", f"2026-11-02T10:10:{n:02d}Z", identity=identity,
                     **{"x-amz-copy-source": f"{bucket}/ledger/{n:04d}.csv",
                        "x-amz-server-side-encryption-customer-algorithm": "AES256"})
    record["additionalEventData"] = {"SSEApplied": "SSE_C", "bytesTransferredIn": 0}
    return record


def test_objects_rewritten_with_sse_c_fire_critical(tmp_path):
    copies = [sse_c_copy(n) for n in range(25)]
    [finding] = found(tmp_path, copies)["s3_objects_encrypted_with_customer_key"]
    assert finding["severity"] == "critical" and len(finding["event_ids"]) == 25
    assert "25 copied within the bucket" in finding["summary"]


def test_a_few_sse_c_uploads_are_quiet(tmp_path):
    assert found(tmp_path, [sse_c_copy(n, identity="role:vault-app/x") for n in range(3)])[
        "s3_objects_encrypted_with_customer_key"] == []


# ------------------------------------------------------------------ foreign KMS key

def bucket_encryption(key):
    return event("PutBucketEncryption", S3, identity=ATTACKER, requestParameters={
        "bucketName": "finance-data", "Host": "finance-data.s3.amazonaws.com", "encryption": "",
        "ServerSideEncryptionConfiguration": {"Rule": {"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, "BucketKeyEnabled": True}}})


def test_default_encryption_with_another_accounts_key_fires(tmp_path):
    record = bucket_encryption("arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    [finding] = found(tmp_path, [record])["s3_encrypted_with_foreign_kms_key"]
    assert "999988887777" in finding["summary"] and finding["severity"] == "critical"


def test_own_key_or_alias_is_quiet(tmp_path):
    records = [bucket_encryption(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
               bucket_encryption("alias/data-key")]
    assert found(tmp_path, records)["s3_encrypted_with_foreign_kms_key"] == []


# ------------------------------------------------------------------ Object Lock

def test_governance_retention_bypassed_fires_high(tmp_path):
    record = s3_data("DeleteObject", "backups", "db/2026-11-01.dump", "2026-11-02T10:00:00Z",
                     **{"versionId": "3HL4kqtJlcpXroDTDmJ", "x-amz-bypass-governance-retention": "true"})
    [finding] = found(tmp_path, [record])["s3_object_lock_weakened"]
    assert finding["severity"] == "high" and "bypassed governance-mode retention" in finding["summary"]


def test_legal_hold_turned_on_is_quiet(tmp_path):
    record = s3_data("PutObjectLegalHold", "backups", "db/2026-11-01.dump", "2026-11-02T10:00:00Z",
                     identity="alice", LegalHold={"Status": "ON"})
    assert found(tmp_path, [record])["s3_object_lock_weakened"] == []


# ------------------------------------------------------------------ KMS

def kms(name, key, identity=ATTACKER, time="2026-11-02T11:00:00Z", error=None, **parameters):
    failure = {"errorCode": error, "errorMessage": "User is not authorized"} if error else {}
    return event(name, "kms.amazonaws.com", time=time, identity=identity, **failure,
                 requestParameters={"keyId": key, **parameters},
                 responseElements={"keyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key}",
                                   "deletionDate": "Nov 9, 2026, 12:00:00 AM"} if name == "ScheduleKeyDeletion" else None)


def test_key_scheduled_for_deletion_with_shortest_wait_is_high(tmp_path):
    record = kms("ScheduleKeyDeletion", "1234abcd-12ab-34cd-56ef-1234567890ab", pendingWindowInDays=7)
    [finding] = found(tmp_path, [record])["kms_key_deletion_scheduled"]
    assert finding["severity"] == "high" and "in 7 day(s)" in finding["summary"]


def test_denied_key_deletion_is_an_attempt(tmp_path):
    record = kms("ScheduleKeyDeletion", "1234abcd-12ab-34cd-56ef-1234567890ab", pendingWindowInDays=7,
                 error="AccessDenied")
    [finding] = found(tmp_path, [record])["kms_key_deletion_scheduled"]
    assert finding["summary"].startswith("attempt, AccessDenied:") and finding["error_code"] == "AccessDenied"


def test_principal_deleting_the_key_it_created_is_quiet(tmp_path):
    create = event("CreateKey", "kms.amazonaws.com", time="2026-11-02T10:00:00Z", identity="role:ci/test",
                   requestParameters={"keyUsage": "ENCRYPT_DECRYPT"},
                   responseElements={"keyMetadata": {"keyId": "5555abcd-12ab-34cd-56ef-1234567890ab",
                                                     "arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/5555abcd-12ab-34cd-56ef-1234567890ab"}})
    delete = kms("ScheduleKeyDeletion", "5555abcd-12ab-34cd-56ef-1234567890ab", identity="role:ci/test2",
                 pendingWindowInDays=7)
    assert found(tmp_path, [create, delete])["kms_key_deletion_scheduled"] == []


# ------------------------------------------------------------------ AWS Backup

def backup(name, identity=ATTACKER, time="2026-11-02T11:00:00Z", **parameters):
    return event(name, "backup.amazonaws.com", time=time, identity=identity, requestParameters=parameters)


def test_vault_and_recovery_points_deleted_fire(tmp_path):
    records = [backup("DeleteRecoveryPoint", backupVaultName="prod",
                      recoveryPointArn=f"arn:aws:ec2:us-east-1::snapshot/snap-0{n}", time=f"2026-11-02T11:0{n}:00Z")
               for n in range(4)]
    records.append(backup("DeleteBackupVault", backupVaultName="prod", time="2026-11-02T11:09:00Z"))
    [finding] = found(tmp_path, records)["backup_recovery_points_deleted"]
    assert finding["severity"] == "high" and set(finding["event_ids"]) == ids(records)


def test_single_recovery_point_deletion_and_backup_lifecycle_are_quiet(tmp_path):
    records = [backup("DeleteRecoveryPoint", identity="alice", backupVaultName="prod",
                      recoveryPointArn="arn:aws:ec2:us-east-1::snapshot/snap-01")]
    service = {"type": "AssumedRole", "principalId": "AROABACKUP:AWSBackup-AWSServiceRoleForBackup",
               "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForBackup/AWSBackup-AWSServiceRoleForBackup",
               "accountId": ACCOUNT, "invokedBy": "backup.amazonaws.com",
               "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSServiceRoleForBackup",
                                                    "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/backup.amazonaws.com/AWSServiceRoleForBackup"}}}
    records += [backup("DeleteRecoveryPoint", identity=service, backupVaultName="prod",
                       recoveryPointArn=f"arn:aws:ec2:us-east-1::snapshot/snap-1{n}") for n in range(10)]
    assert found(tmp_path, records)["backup_recovery_points_deleted"] == []


# ------------------------------------------------------------------ snapshots and AMIs

def test_snapshot_and_ami_deletion_burst_fires(tmp_path):
    records = [event("DeleteSnapshot", identity=ATTACKER, time=f"2026-11-02T12:00:{n:02d}Z",
                     requestParameters={"snapshotId": f"snap-0{n:016d}"}) for n in range(6)]
    records.append(event("DeregisterImage", identity=ATTACKER, time="2026-11-02T12:01:00Z",
                         requestParameters={"imageId": "ami-0123456789abcdef0"}))
    [finding] = found(tmp_path, records)["snapshots_deleted_in_burst"]
    assert set(finding["event_ids"]) == ids(records) and "AMI, EBS snapshot" in finding["summary"]


def test_single_snapshot_deletion_and_lifecycle_manager_are_quiet(tmp_path):
    records = [event("DeleteSnapshot", identity="alice", requestParameters={"snapshotId": "snap-0aaaaaaaaaaaaaaaa"})]
    dlm = "role:AWSDataLifecycleManagerDefaultRole/dlm-session"
    records += [event("DeleteSnapshot", identity=dlm, time=f"2026-11-02T03:00:{n:02d}Z",
                      requestParameters={"snapshotId": f"snap-1{n:016d}"}) for n in range(20)]
    assert found(tmp_path, records)["snapshots_deleted_in_burst"] == []


# ------------------------------------------------------------------ RDS

def test_database_deleted_without_final_snapshot_after_protection_removed(tmp_path):
    modify = event("ModifyDBInstance", "rds.amazonaws.com", identity=ATTACKER, time="2026-11-02T13:00:00Z",
                   requestParameters={"dBInstanceIdentifier": "orders", "deletionProtection": False, "applyImmediately": True})
    delete = event("DeleteDBInstance", "rds.amazonaws.com", identity=ATTACKER, time="2026-11-02T13:05:00Z",
                   requestParameters={"dBInstanceIdentifier": "orders", "skipFinalSnapshot": True,
                                      "deleteAutomatedBackups": True})
    findings = found(tmp_path, [modify, delete])["rds_deleted_without_final_snapshot"]
    assert [(f["event_id"], f["severity"]) for f in findings] == [(modify["eventID"], "high"), (delete["eventID"], "high")]
    assert "without a final snapshot" in findings[1]["summary"]


def test_database_deleted_with_final_snapshot_is_quiet(tmp_path):
    delete = event("DeleteDBInstance", "rds.amazonaws.com", identity="alice",
                   requestParameters={"dBInstanceIdentifier": "staging", "skipFinalSnapshot": False,
                                      "finalDBSnapshotIdentifier": "staging-final"})
    assert found(tmp_path, [delete])["rds_deleted_without_final_snapshot"] == []


# ------------------------------------------------------------------ TerminateInstances

def terminate(instances, identity=ATTACKER, time="2026-11-02T14:00:00Z"):
    return event("TerminateInstances", identity=identity, time=time,
                 requestParameters={"instancesSet": {"items": [{"instanceId": i} for i in instances]}})


def test_mass_termination_fires_and_counts_instances(tmp_path):
    records = [terminate([f"i-0{n}{m}" for m in range(4)], time=f"2026-11-02T14:0{n}:00Z") for n in range(3)]
    [finding] = found(tmp_path, records)["instances_terminated_in_burst"]
    assert finding["summary"].startswith("12 instance(s) terminated in 3 call(s)")


def test_single_termination_and_auto_scaling_are_quiet(tmp_path):
    autoscaling = {"type": "AssumedRole", "principalId": "AROAASG:AutoScaling",
                   "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
                   "accountId": ACCOUNT, "invokedBy": "autoscaling.amazonaws.com",
                   "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSServiceRoleForAutoScaling",
                                                        "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"}}}
    records = [terminate(["i-0single"], identity="alice"), terminate([f"i-asg{m}" for m in range(20)], identity=autoscaling)]
    assert found(tmp_path, records)["instances_terminated_in_burst"] == []


def test_key_policy_set_with_lockout_check_bypassed_fires(tmp_path):
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"kms:*","Resource":"*"}]}'
    bypass = kms("PutKeyPolicy", "1234abcd-12ab-34cd-56ef-1234567890ab", policyName="default", policy=policy,
                 bypassPolicyLockoutSafetyCheck=True)
    routine = kms("PutKeyPolicy", "1234abcd-12ab-34cd-56ef-1234567890ab", identity="alice", policyName="default",
                  policy=policy.replace("999988887777", ACCOUNT), bypassPolicyLockoutSafetyCheck=False)
    findings = found(tmp_path, [bypass, routine])["kms_key_policy_lockout_bypassed"]
    assert [f["event_id"] for f in findings] == [bypass["eventID"]]


def key_policy(principal, condition=None):
    statement = {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:*", "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    own = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
           "Action": "kms:*", "Resource": "*"}
    return orjson.dumps({"Version": "2012-10-17", "Statement": [own, statement]}).decode()


def test_key_policy_handed_to_another_account_fires_and_own_policy_does_not(tmp_path):
    handed = kms("PutKeyPolicy", "1234abcd-12ab-34cd-56ef-1234567890ab", policyName="default",
                 policy=key_policy("arn:aws:iam::999988887777:root"))
    own = kms("PutKeyPolicy", "1234abcd-12ab-34cd-56ef-1234567890ab", identity="alice", policyName="default",
              policy=key_policy(f"arn:aws:iam::{ACCOUNT}:role/app"))
    findings = found(tmp_path, [handed, own])["kms_key_policy_opened"]
    assert [(f["event_id"], f["severity"]) for f in findings] == [(handed["eventID"], "high")]
    assert "999988887777" in findings[0]["summary"]
