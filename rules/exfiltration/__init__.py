"""Data exposure and exfiltration: EBS snapshots, AMIs and RDS snapshots shared with other
accounts or made public, bucket policies opened to everyone or to other accounts, S3 Block Public
Access removed, bucket replication to another account, mass reads of secrets (Secrets Manager,
SSM SecureString parameters, EC2 Windows passwords), and unusual volumes of S3 object reads.

The detections are the .sql files beside this module; views.sql defines the views they share.
The bucket-policy and replication rules are Python (`python:` in their header): the functions
below, reading policies and ARNs with rules.aws_policy.
"""
import re

import orjson

import casedb
import charts
import common
from detections import Area, Setting
from rules.aws_policy import arn_resource, as_list, read_policy, resource_policy_grants

# S3 actions CloudTrail records as data events (object-level). Records exported without
# eventCategory (older trails, CSV exports) are recognised by name.
S3_DATA_EVENT_NAMES = (
    "GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject", "DeleteObjects", "ListObjects",
    "ListObjectsV2", "ListObjectVersions", "GetObjectAcl", "PutObjectAcl", "GetObjectTagging", "PutObjectTagging",
    "GetObjectAttributes", "SelectObjectContent", "RestoreObject", "CreateMultipartUpload", "UploadPart",
    "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload",
)

SETTINGS = (
    Setting("secret_read_distinct", "CLOUDTRAIL_SECRET_READ_DISTINCT", 10,
            "Distinct secrets, parameters or instance passwords one identity reads that count as a mass read"),
    Setting("secret_read_calls", "CLOUDTRAIL_SECRET_READ_CALLS", 100,
            "Secret read calls by one identity that count as a mass read, whatever was read"),
    Setting("secret_read_minutes", "CLOUDTRAIL_SECRET_READ_MINUTES", 60, "Secret-read window in minutes"),
    Setting("object_read_calls", "CLOUDTRAIL_OBJECT_READ_CALLS", 1000,
            "GetObject calls by one identity on one bucket that count as a large read"),
    Setting("object_read_megabytes", "CLOUDTRAIL_OBJECT_READ_MEGABYTES", 1024,
            "MiB sent out to one identity from one bucket that count as a large read"),
    Setting("object_read_minutes", "CLOUDTRAIL_OBJECT_READ_MINUTES", 60, "S3 read window in minutes"),
    Setting("object_read_baseline_factor", "CLOUDTRAIL_OBJECT_READ_BASELINE_FACTOR", 10,
            "Times an identity's usual GetObject calls per window that count as unusual"),
    Setting("object_read_baseline_minimum", "CLOUDTRAIL_OBJECT_READ_BASELINE_MINIMUM", 100,
            "Fewest GetObject calls in a window that can count as unusual"),
)

def data_event_notes(con):
    """What the data in scope holds of S3 data events: without GetObject records,
    bucket_objects_read_in_bulk cannot see anything, and the analyst must know."""
    data_events, get_objects, with_bytes = casedb.one(con, """
        select
            count(*),
            count(*) filter (where event_name = 'GetObject'),
            count(*) filter (where event_name = 'GetObject'
                               and (additional_event_data->>'$.bytesTransferredOut') is not null)
        from scoped_events
        where event_source = 's3.amazonaws.com'
          and (event_category = 'Data' or list_contains($names, event_name))
    """, {"names": list(S3_DATA_EVENT_NAMES)})
    where = "in the window analysed" if casedb.scalar(con, "select getvariable('since') is not null or getvariable('until') is not null") else "in this case"
    if data_events == 0:
        return (f"**There are no S3 data events {where}** (GetObject, PutObject, ListObjects ...): the "
                "trail does not log object-level calls, or none were made, so bucket_objects_read_in_bulk could "
                "not see any object read. Finding nothing there says nothing about whether data was read from "
                "S3; look for S3 server access logs, or a trail with S3 data events, for the buckets that matter.",)
    if get_objects == 0:
        return (f"The {data_events:,} S3 data events {where} include **no GetObject**: the trail may log only "
                "write events for S3, so bucket_objects_read_in_bulk could not see any object read.",)
    return (f"S3 data events in scope: {data_events:,}, of which {get_objects:,} GetObject "
            f"({with_bytes:,} with bytesTransferredOut).",)



# ---------------------------------------------------------------- Python rules

def find_bucket_policy_grants(rows):
    """bucket_policy_granted_public_or_cross_account: PutBucketPolicy calls whose policy allows
    everyone or another account (the policy arrives as an object or as a JSON string, sometimes
    URL-encoded: aws_policy.read_policy reads each)."""
    for row in rows:
        document, _ = read_policy(row["policy"])
        grants = resource_policy_grants(document, row["owner_account"])
        if not grants["public"] and not grants["accounts"]:
            continue
        unrestricted = [s for s in grants["public"] if not s["restricting_conditions"]]
        if unrestricted:
            severity, who = "critical", "anyone (Principal *)"
        elif grants["accounts"]:
            severity, who = None, "account(s) " + ", ".join(sorted(grants["accounts"]))
        else:
            severity, who = "low", "anyone (Principal *) under restricting conditions"
        if unrestricted and grants["accounts"]:
            who += " and account(s) " + ", ".join(sorted(grants["accounts"]))
        actions = sorted({a for s in grants["public"] + grants["cross_account"] for a in s["actions"]})
        bucket = row["bucket"] or "?"
        yield {"event_id": row["event_id"], "resource": f"bucket {bucket}", "severity": severity,
               "summary": f"bucket {bucket} policy allows {who} to {', '.join(actions[:6]) or '(no action listed)'}"
                          + (" ..." if len(actions) > 6 else ""),
               "details": {"public_statements": grants["public"], "cross_account_statements": grants["cross_account"],
                           "other_accounts": sorted(grants["accounts"]), "bucket_owner": row["owner_account"],
                           "user_agent": row["user_agent"]}}


def find_external_replication(con, rows):
    """bucket_replicated_to_other_account: PutBucketReplication calls whose destination belongs to
    another account, or to an owner the logs cannot tell (the Account element is optional and S3
    checks it only with AccessControlTranslation)."""
    calls = [(row, replication_destinations(row["configuration"])) for row in rows]
    owners = bucket_owners(con, sorted({d["bucket"] for _, destinations in calls for d in destinations
                                        if not d["account"]}))
    for row, destinations in calls:
        bucket, owner, error = row["bucket"] or "?", row["owner_account"], row["error_code"]
        external, unknown = [], []
        for destination in destinations:
            dest_account = destination["account"] or owners.get(destination["bucket"])
            if dest_account is None:
                unknown.append(destination)
            elif dest_account != owner:
                external.append(destination | {"account": dest_account})
        if external:
            severity = None
            text = ", ".join(f"{d['bucket']} (account {d['account']})" for d in external)
            summary = f"bucket {bucket} set to replicate to {text}"
        elif unknown:
            severity = "low"
            summary = (f"bucket {bucket} set to replicate to {', '.join(d['bucket'] for d in unknown)}, "
                       "whose owner is neither given nor seen in these logs")
        elif not destinations and error and re.search(r"AccessDenied|Unauthorized", error, re.IGNORECASE):
            severity = "medium"
            summary = f"bucket {bucket}: replication set-up denied, destination not recorded"
        else:
            continue
        yield {"event_id": row["event_id"], "resource": f"bucket {bucket}", "severity": severity,
               "summary": summary,
               "details": {"external_destinations": external, "destinations_owner_unknown": unknown,
                           "role": _replication_role(row["configuration"]), "bucket_owner": owner,
                           "user_agent": row["user_agent"]}}


def replication_destinations(configuration_json):
    """[{bucket, account, owner_override}] of a replication configuration (Rule is one object or a list)."""
    try:
        configuration = orjson.loads(configuration_json) if configuration_json else None
    except orjson.JSONDecodeError:
        return []
    if not isinstance(configuration, dict):
        return []
    destinations = []
    for rule in as_list(configuration.get("Rule") or configuration.get("Rules")):
        destination = rule.get("Destination") if isinstance(rule, dict) else None
        if not isinstance(destination, dict) or not destination.get("Bucket"):
            continue
        arn = str(destination["Bucket"])
        translation = destination.get("AccessControlTranslation")
        entry = {"bucket": arn_resource(arn),
                 "account": str(destination["Account"]) if destination.get("Account") else None,
                 "owner_override": translation.get("Owner") if isinstance(translation, dict) else None}
        if entry not in destinations:
            destinations.append(entry)
    return destinations


def _replication_role(configuration_json):
    try:
        configuration = orjson.loads(configuration_json) if configuration_json else None
    except orjson.JSONDecodeError:
        return None
    return configuration.get("Role") if isinstance(configuration, dict) else None


def bucket_owners(con, buckets):
    """{bucket: owning account} for the buckets whose owner any S3 event in the case records in
    resources[] (S3 events name the bucket with the owner's accountId); ambiguous ones left out."""
    if not buckets:
        return {}
    arns = [f"arn:aws:s3:::{bucket}" for bucket in buckets]
    found = casedb.rows(con, """
        select
            resource->>'$.ARN' as arn,
            list_distinct(list(resource->>'$.accountId')) as owners
        from (
            select unnest(json_extract(resources, '$[*]')) as resource
            from events
            where event_source = 's3.amazonaws.com'
              and len(list_filter($arns, lambda arn: contains(resources::varchar, arn))) > 0
        )
        where list_contains($arns, resource->>'$.ARN')
          and (resource->>'$.accountId') is not null
        group by arn
    """, {"arns": arns})
    return {arn_resource(arn): owners[0] for arn, owners in found if len(owners) == 1}



def data_access_charts(con, outcomes, folder, moment):
    """Secret reads over time by identity, and GetObject calls per identity and bucket."""
    frame = casedb.frame(con, """
        select
            date_trunc('minute', event_time) as minute,
            caller,
            count(*) as reads
        from exfiltration_secret_reads
        where event_time is not null
        group by all
    """)
    if not frame.empty:
        frame["caller"] = frame["caller"].map(common.short_identity)
    secrets = charts.time_series_by_group(
        frame, "minute", "caller", "reads", "Secret and password read calls by identity", "read calls",
        common.new_output_path(folder, "exfiltration_secret_reads", ".png", moment))
    # By bytes read rather than calls: background roles make many small reads, a theft a few large ones.
    # Reads without bytesTransferredOut (older records) count as 0 bytes; with no bytes at all, by calls.
    readers = casedb.rows(con, """
        select
            r.reader,
            e.source_ip,
            r.bucket,
            count(*) as reads,
            coalesce(sum(try_cast(e.additional_event_data->>'$.bytesTransferredOut' as bigint)), 0) as bytes
        from s3_object_reads as r
        join scoped_events as e using (event_id)
        group by r.reader, e.source_ip, r.bucket
        order by bytes desc, reads desc, r.reader, e.source_ip, r.bucket
        limit 12
    """)
    by_bytes = any(row[4] for row in readers)
    labels = [f"{common.short_identity(reader, with_account=False)} from {ip or '?'} / {bucket}"
              for reader, ip, bucket, _, _ in readers]
    objects = charts.bar_chart(
        labels, [round(row[4] / 1e6, 1) if by_bytes else row[3] for row in readers],
        "S3 data read (GetObject) by identity, IP and bucket",
        "MB transferred out" if by_bytes else "GetObject calls",
        common.new_output_path(folder, "exfiltration_object_reads", ".png", moment), label_limit=48)
    return [("Secret and password read calls by identity", secrets),
            ("S3 data read per identity, source IP and bucket", objects)]



AREA = Area(
    name="exfiltration",
    title="Data exposure and exfiltration report",
    tool="analyze_exfiltration.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from exfiltration_calls
        where event_time is not null
        group by minute
    """,
    activity_title="Sharing, policy and data-access calls",
    charts=(data_access_charts,),
    settings=SETTINGS,
    data_notes=data_event_notes,
    notes=(
        "Removing a share (createVolumePermission.remove, launchPermission.remove, valuesToRemove) is "
        "not a finding; only permissions that are added are.",
        "A bucket policy statement that allows everyone (Principal \"*\") but carries conditions that "
        "narrow who can use it (aws:PrincipalOrgID, aws:SourceVpce, aws:SourceIp, ...) is still "
        "reported, at low severity, with the conditions in the finding's details.",
        "A filter-based BatchGetSecretValue record names only the filter, not the secrets returned; it "
        "counts as one item in secrets_read_in_bulk and is reported on its own by "
        "secrets_batch_read_by_filter. AWS documents that Secrets Manager also writes a GetSecretValue "
        "entry for each secret a batch call requests; where the trail has them, they count as reads.",
        "A burst (secrets_read_in_bulk, bucket_objects_read_in_bulk) runs from the start of the first "
        "window that reached a threshold to the end of the last one, so it can include a few of the "
        "identity's ordinary calls at its edges; details give the peak counts.",
        "Callers are grouped by ARN (for roles, per session). Anonymous S3 callers are grouped by "
        "source IP, callers from other accounts without an ARN by account and principal id.",
    ),
)
