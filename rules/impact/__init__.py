"""Impact: data destruction, ransomware and inhibited recovery - S3 versioning, lifecycle
expiry, mass deletions, SSE-C and foreign-KMS re-encryption, Object Lock; KMS keys disabled or
scheduled for deletion; AWS Backup, snapshot, AMI and RDS backup destruction; mass instance
termination.

The detections are the .sql files beside this module; views.sql defines the views they share.
"""
from detections import Area, Setting

SETTINGS = (
    Setting("lifecycle_expiry_days", "CLOUDTRAIL_LIFECYCLE_EXPIRY_DAYS", 7,
            "Lifecycle rules expiring objects or old versions in fewer days than this count"),
    Setting("impact_new_bucket_minutes", "CLOUDTRAIL_IMPACT_NEW_BUCKET_MINUTES", 60,
            "Versioning suspended within this many minutes of the bucket's creation by the same principal is set-up, not reported"),
    Setting("s3_delete_calls", "CLOUDTRAIL_S3_DELETE_CALLS", 50,
            "DeleteObject/DeleteObjects calls by one principal on one bucket that count as a mass deletion"),
    Setting("s3_delete_minutes", "CLOUDTRAIL_S3_DELETE_MINUTES", 10,
            "Longest pause between deletions of one burst, in minutes"),
    Setting("sse_c_objects", "CLOUDTRAIL_SSE_C_OBJECTS", 10,
            "Objects written with a customer-provided key (SSE-C) by one principal to one bucket that count"),
    Setting("sse_c_minutes", "CLOUDTRAIL_SSE_C_MINUTES", 10,
            "Longest pause between SSE-C writes of one burst, in minutes"),
    Setting("backup_delete_count", "CLOUDTRAIL_BACKUP_DELETE_COUNT", 3,
            "Recovery points deleted by one principal that count (a vault or its lock always counts)"),
    Setting("snapshot_delete_count", "CLOUDTRAIL_SNAPSHOT_DELETE_COUNT", 5,
            "Snapshots, AMIs or RDS backups deleted by one principal that count as a burst"),
    Setting("snapshot_delete_minutes", "CLOUDTRAIL_SNAPSHOT_DELETE_MINUTES", 10,
            "Longest pause between deletions of one snapshot burst, in minutes"),
    Setting("terminate_instance_count", "CLOUDTRAIL_TERMINATE_INSTANCE_COUNT", 10,
            "Instances terminated by one principal that count as a burst"),
    Setting("terminate_minutes", "CLOUDTRAIL_TERMINATE_MINUTES", 10,
            "Longest pause between TerminateInstances calls of one burst, in minutes"),
)

AREA = Area(
    name="impact",
    title="Impact: data destruction, ransomware and inhibited recovery",
    tool="analyze_impact.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from impact_events
        where event_time is not null
          and ((event_source = 's3.amazonaws.com' and event_name in (
                    'PutBucketVersioning', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'DeleteObject',
                    'DeleteObjects', 'PutBucketEncryption', 'PutObjectLockConfiguration', 'PutObjectRetention',
                    'PutObjectLegalHold'))
               or (event_source = 'kms.amazonaws.com' and event_name in ('ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy'))
               or (event_source = 'backup.amazonaws.com' and event_name like 'Delete%')
               or (event_source = 'ec2.amazonaws.com' and event_name in ('DeleteSnapshot', 'DeregisterImage', 'TerminateInstances'))
               or (event_source = 'rds.amazonaws.com' and event_name like 'Delete%'))
        group by minute
    """,
    activity_title="Deleting, re-encrypting and protection-removing calls (S3, KMS, Backup, EC2, RDS)",
    settings=SETTINGS,
    notes=(
        "Failed calls are reported as attempts: an attacker refused DeleteBackupVault or ScheduleKeyDeletion "
        "has shown the intent.",
        "Bursts group the calls of one principal (the role for role sessions, so the sessions of a stolen "
        "role count together) with no pause longer than the burst's minutes between two calls.",
        "Calls AWS makes on its own behalf are left out of deletion bursts: userIdentity type AWSService, an "
        "invokedBy service, service-linked roles (AWSServiceRole*), Data Lifecycle Manager and AWS Backup "
        "roles, Auto Scaling. Objects removed by S3 lifecycle rules are not in CloudTrail at all.",
        "S3 object deletions and writes are data events: they are in the logs only when the trail records "
        "S3 data events for the bucket. DeleteObjects does not list the keys it deleted.",
    ),
)


def find_key_policy_opened(rows):
    """PutKeyPolicy / CreateKey rows whose policy admits everyone or another account."""
    from rules import aws_policy

    for row in rows:
        details = row["details"]
        document, _ = aws_policy.read_policy(details["policy"])
        if document is None:
            continue
        outside = aws_policy.outside_principals(document, details["account"])
        if not outside:
            continue
        unconditioned = [(kind, who) for kind, who, conditioned in outside if not conditioned]
        attempt = f"attempt, {details['error_code']}: " if details["error_code"] else ""
        shown = unconditioned or [(kind, who) for kind, who, _ in outside]
        yield {
            "event_id": row["event_id"],
            "resource": row["resource"],
            "summary": f"{attempt}KMS key {row['resource']} policy admits "
                       + ", ".join(f"{who} ({kind})" for kind, who in shown[:5])
                       + ("" if unconditioned else ", narrowed by a condition"),
            "details": {"outside": [{"kind": kind, "principal": who, "conditioned": conditioned}
                                    for kind, who, conditioned in outside]},
            "severity": None if unconditioned else "medium",
        }
