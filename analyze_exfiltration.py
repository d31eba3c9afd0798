"""Hunt for data exposure and exfiltration: EBS snapshots, AMIs and RDS snapshots shared with
other accounts or made public, bucket policies opened to everyone or to other accounts, S3 Block
Public Access removed, bucket replication to another account, mass reads of secrets (Secrets
Manager, SSM SecureString parameters, EC2 Windows passwords), and unusual volumes of S3 object
reads.

usage: analyze_exfiltration.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
exfiltration_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

thresholds (environment variables):
  CLOUDTRAIL_SECRET_READ_DISTINCT  distinct secrets, parameters or instance passwords one identity reads that count as a mass read (default 10)
  CLOUDTRAIL_SECRET_READ_CALLS     ... or this many read calls, whatever was read (default 100)
  CLOUDTRAIL_SECRET_READ_MINUTES   ... within this many minutes (default 60)
  CLOUDTRAIL_OBJECT_READ_CALLS     GetObject calls by one identity on one bucket that count as a large read (default 1000)
  CLOUDTRAIL_OBJECT_READ_MEGABYTES ... or this many MiB sent out (default 1024)
  CLOUDTRAIL_OBJECT_READ_MINUTES   ... within this many minutes (default 60)
  CLOUDTRAIL_OBJECT_READ_BASELINE_FACTOR  times the identity's usual reads per window that count as unusual (default 10)
  CLOUDTRAIL_OBJECT_READ_BASELINE_MINIMUM  ... but never fewer reads than this (default 100)
"""
import re
import sys
import urllib.parse

import orjson

import casedb
import charts
import common
import detections
from detections import Area, Detection, Setting

# S3 actions CloudTrail records as data events (object-level). Records exported without
# eventCategory (older trails, CSV exports) are recognised by name.
S3_DATA_EVENT_NAMES = (
    "GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject", "DeleteObjects", "ListObjects",
    "ListObjectsV2", "ListObjectVersions", "GetObjectAcl", "PutObjectAcl", "GetObjectTagging", "PutObjectTagging",
    "GetObjectAttributes", "SelectObjectContent", "RestoreObject", "CreateMultipartUpload", "UploadPart",
    "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload",
)

# Shared normalisation, stored in the case so every query can be pasted into duckdb:
# - exfiltration_caller(): who called, for grouping. Anonymous S3 callers (userIdentity.accountId
#   ANONYMOUS_PRINCIPAL, principalId "") are told apart by source IP; callers from other accounts
#   (type AWSAccount, no arn) by account and principal id. exfiltration_bucket(): which bucket.
# - exfiltration_shares: every request to share an EBS snapshot, AMI or RDS snapshot, with the
#   accounts it adds (the account's own id left out), whether it adds "all" (public), and
#   organisations. A request that adds something in a shape not understood, or a denied request
#   whose parameters were not recorded, is kept with unreadable = true rather than dropped.
# - exfiltration_secret_reads(_all): one row per read of secret values, with the names read
#   (secret names, parameter names, instance ids) and their kind.
# - s3_object_reads(_all): GetObject calls with reader, bucket, key and bytes sent out.
# - exfiltration_calls: the calls the detections read, for the activity chart.
SETUP_SQL = """
create or replace macro exfiltration_caller(user_type, user_arn, principal_id, user_account_id, actor, source_ip) as
    case
        when user_account_id = 'ANONYMOUS_PRINCIPAL'
          or (user_type = 'AWSAccount' and user_arn is null and coalesce(principal_id, '') = '')
            then concat('anonymous at ', coalesce(source_ip, '?'))
        when user_type = 'AWSAccount' and user_arn is null
            then concat('account ', coalesce(user_account_id, '?'), ' principal ', principal_id)
        else coalesce(nullif(user_arn, ''), nullif(actor, ''), '(unknown caller)')
    end;

create or replace macro exfiltration_bucket(request_parameters) as
    coalesce(request_parameters->>'$.bucketName',
             nullif(regexp_extract(request_parameters->>'$.Host', '^(.+)\\.s3[.-]', 1), ''),
             '(unknown bucket)');

create or replace view exfiltration_shares as
with requests as (
    select
        *,
        case event_name
            when 'ModifySnapshotAttribute' then 'EBS snapshot'
            when 'ModifyImageAttribute' then 'AMI'
            when 'ModifyDBSnapshotAttribute' then 'RDS snapshot'
            else 'RDS cluster snapshot'
        end as shared_kind,
        coalesce(
            request_parameters->>'$.snapshotId',
            request_parameters->>'$.imageId',
            request_parameters->>'$.dBSnapshotIdentifier',
            request_parameters->>'$.dBClusterSnapshotIdentifier',
            '(not recorded)'
        ) as shared_id,
        case
            when event_name = 'ModifySnapshotAttribute' then request_parameters->'$.createVolumePermission.add'
            when event_name = 'ModifyImageAttribute' then request_parameters->'$.launchPermission.add'
        end as ec2_add
    from scoped_events
    where (event_source = 'ec2.amazonaws.com' and event_name in ('ModifySnapshotAttribute', 'ModifyImageAttribute'))
       or (event_source = 'rds.amazonaws.com' and event_name in ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'))
),
targets as (
    select
        *,
        list_filter(list_concat(
            json_extract_string(ec2_add, '$.items[*].userId'),
            [ec2_add->>'$.items.userId'],
            case when lower(request_parameters->>'$.operationType') = 'add'
                 then list_concat(json_extract_string(request_parameters, '$.userIds[*]'),
                                  json_extract_string(request_parameters, '$.userIds.items[*].userId'),
                                  [request_parameters->>'$.userId']) end,
            case when event_source = 'rds.amazonaws.com' and lower(request_parameters->>'$.attributeName') = 'restore'
                 then json_extract_string(request_parameters, '$.valuesToAdd[*]') end
        ), lambda v: v is not null and v <> '') as values_added,
        list_filter(list_concat(
            json_extract_string(ec2_add, '$.items[*].group'),
            [ec2_add->>'$.items.group'],
            case when lower(request_parameters->>'$.operationType') = 'add'
                 then list_concat(json_extract_string(request_parameters, '$.userGroups[*]'),
                                  json_extract_string(request_parameters, '$.userGroups.items[*].userGroup'),
                                  json_extract_string(request_parameters, '$.groupNames[*]')) end
        ), lambda v: v is not null and v <> '') as groups_added,
        list_filter(list_concat(
            json_extract_string(ec2_add, '$.items[*].organizationArn'),
            json_extract_string(ec2_add, '$.items[*].organizationalUnitArn'),
            [ec2_add->>'$.items.organizationArn', ec2_add->>'$.items.organizationalUnitArn']
        ), lambda v: v is not null and v <> '') as organizations_added,
        ec2_add is not null
            or lower(request_parameters->>'$.operationType') = 'add'
            or coalesce(json_array_length(request_parameters->'$.valuesToAdd'), 0) > 0 as adds_something
    from requests
),
flagged as (
    select
        *,
        list_contains(groups_added, 'all') or list_contains(values_added, 'all') as made_public,
        list_filter(values_added, lambda v: v <> 'all' and v is distinct from recipient_account_id) as accounts_added,
        (adds_something and len(values_added) + len(groups_added) + len(organizations_added) = 0)
            or (request_parameters is null and error_code is not null
                and (error_code ilike '%AccessDenied%' or error_code ilike '%Unauthorized%')) as unreadable
    from targets
)
select
    *,
    made_public or len(accounts_added) > 0 or len(organizations_added) > 0 or unreadable as is_share,
    case
        when made_public then 'critical'
        when len(accounts_added) > 0 then null
        else 'medium'
    end as share_severity,
    concat(shared_kind, ' ', shared_id,
           case
               when made_public then ' made public (shared with all AWS accounts)'
               when len(accounts_added) > 0 then concat(' shared with account(s) ', array_to_string(accounts_added, ', '))
               when len(organizations_added) > 0 then concat(' shared with organisation(s) ', array_to_string(organizations_added, ', '))
               when request_parameters is null then ': share attempt denied, parameters not recorded'
               else ': permissions added in a shape not understood, see details'
           end) as share_summary
from flagged;

create or replace view exfiltration_secret_reads_all as
with reads as (
    select
        *,
        case
            when event_name = 'GetSecretValue' then [request_parameters->>'$.secretId']
            when event_name = 'BatchGetSecretValue' then
                case when json_array_length(request_parameters->'$.secretIdList') > 0
                     then json_extract_string(request_parameters, '$.secretIdList[*]')
                     when (request_parameters->'$.filters') is not null
                     then [concat('filter ', (request_parameters->'$.filters')::varchar)] end
            when event_name = 'GetParameter' then [request_parameters->>'$.name']
            when event_name = 'GetParameters' then json_extract_string(request_parameters, '$.names[*]')
            when event_name = 'GetParametersByPath' then [concat('path ', request_parameters->>'$.path')]
            when event_name = 'GetPasswordData' then [request_parameters->>'$.instanceId']
        end as requested,
        case event_source
            when 'secretsmanager.amazonaws.com' then 'secret'
            when 'ssm.amazonaws.com' then 'parameter'
            else 'instance password'
        end as secret_kind
    from events
    where (event_source = 'secretsmanager.amazonaws.com' and event_name in ('GetSecretValue', 'BatchGetSecretValue'))
       or (event_source = 'ssm.amazonaws.com'
           and event_name in ('GetParameter', 'GetParameters', 'GetParametersByPath')
           and lower(request_parameters->>'$.withDecryption') = 'true')
       or (event_source = 'ec2.amazonaws.com' and event_name = 'GetPasswordData')
)
select
    *,
    exfiltration_caller(user_type, user_arn, principal_id, user_account_id, actor, source_ip) as caller,
    -- A secret named by ARN ends in '-' and six random characters that its name lacks.
    list_transform(
        coalesce(nullif(list_filter(requested, lambda v: v is not null and v <> ''), []), ['(not recorded)']),
        lambda v: coalesce(nullif(regexp_extract(v, '^arn:aws[a-z-]*:secretsmanager:[^:]*:[0-9]*:secret:(.+)-[A-Za-z0-9]{6}$', 1), ''),
                           v)
    ) as secret_names
from reads;

create or replace view exfiltration_secret_reads as
select *
from exfiltration_secret_reads_all
where in_window(event_time);

create or replace view s3_object_reads_all as
select
    *,
    exfiltration_caller(user_type, user_arn, principal_id, user_account_id, actor, source_ip) as reader,
    exfiltration_bucket(request_parameters) as bucket,
    request_parameters->>'$.key' as object_key,
    try_cast(additional_event_data->>'$.bytesTransferredOut' as double) as bytes_out
from events
where event_source = 's3.amazonaws.com'
  and event_name = 'GetObject';

create or replace view s3_object_reads as
select *
from s3_object_reads_all
where in_window(event_time);

create or replace view exfiltration_calls as
select
    event_time,
    event_source,
    event_name,
    error_code
from scoped_events
where (event_source = 'ec2.amazonaws.com' and event_name in ('ModifySnapshotAttribute', 'ModifyImageAttribute', 'GetPasswordData'))
   or (event_source = 'rds.amazonaws.com' and event_name in ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'))
   or (event_source in ('s3.amazonaws.com', 's3-control.amazonaws.com')
       and event_name in ('PutBucketPolicy', 'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock',
                          'PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock', 'PutPublicAccessBlock',
                          'DeletePublicAccessBlock', 'PutBucketReplication', 'GetObject'))
   or (event_source = 'secretsmanager.amazonaws.com' and event_name in ('GetSecretValue', 'BatchGetSecretValue'))
   or (event_source = 'ssm.amazonaws.com'
       and event_name in ('GetParameter', 'GetParameters', 'GetParametersByPath')
       and lower(request_parameters->>'$.withDecryption') = 'true');
"""

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
    setup_sql=SETUP_SQL,
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


def bucket_policy_findings(con):
    """PutBucketPolicy calls whose policy allows everyone or another account (policy parsed in Python:
    it arrives as an object or as a JSON string, sometimes URL-encoded)."""
    found = con.execute("""
        select
            event_time,
            event_name,
            request_parameters->>'$.bucketName' as bucket,
            actor,
            source_ip,
            recipient_account_id,
            aws_region,
            event_id,
            error_code,
            coalesce(recipient_account_id, user_account_id) as owner_account,
            request_parameters->'$.bucketPolicy' as policy,
            user_agent
        from scoped_events
        where event_source = 's3.amazonaws.com'
          and event_name = 'PutBucketPolicy'
          and (request_parameters->'$.bucketPolicy') is not null
    """).fetchall()
    for (time, name, bucket, actor, ip, account, region, event_id, error, owner, policy_json, agent) in found:
        grants = policy_grants(policy_json, owner)
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
        summary = (f"bucket {bucket or '?'} policy allows {who} to {', '.join(actions[:6]) or '(no action listed)'}"
                   + (" ..." if len(actions) > 6 else ""))
        details = {"public_statements": grants["public"], "cross_account_statements": grants["cross_account"],
                   "other_accounts": sorted(grants["accounts"]), "bucket_owner": owner, "user_agent": agent}
        yield (time, name, f"bucket {bucket or '?'}", actor, ip, account, region, event_id, error, time, [event_id],
               severity, summary, details)


# Condition keys that narrow who can use a statement. A statement allowing "*" with one of these
# is not open to the Internet; with "*" or 0.0.0.0/0 as the only value it narrows nothing.
RESTRICTING_CONDITION_KEYS = {
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn", "aws:sourceaccount",
    "aws:sourcearn", "aws:sourceowner", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:userid",
    "aws:username", "aws:vpcsourceip", "s3:dataaccesspointaccount", "s3:dataaccesspointarn",
}
OPEN_VALUES = {"*", "0.0.0.0/0", "::/0"}
ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")


def parse_policy(value):
    """A policy document from CloudTrail: an object, a JSON string, or a URL-encoded JSON string."""
    if isinstance(value, (bytes, str)):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if isinstance(value, str):
        for text in (value, urllib.parse.unquote_plus(value)):
            if text.strip().startswith("{"):
                try:
                    return parse_policy(orjson.loads(text))
                except orjson.JSONDecodeError:
                    continue
        return None
    return value if isinstance(value, dict) else None


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_grants(policy_json, owner_account):
    """{'public': [statement summaries], 'cross_account': [...], 'accounts': {ids}} of Allow statements."""
    grants = {"public": [], "cross_account": [], "accounts": set()}
    policy = parse_policy(policy_json)
    if not policy:
        return grants
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, dict) or str(statement.get("Effect", "")).lower() != "allow":
            continue
        public, accounts = _principals(statement, owner_account)
        if not public and not accounts:
            continue
        conditions = statement.get("Condition") if isinstance(statement.get("Condition"), dict) else {}
        summary = {"sid": statement.get("Sid"), "actions": [str(a) for a in _as_list(statement.get("Action"))]
                   or [f"all except {', '.join(map(str, _as_list(statement.get('NotAction'))))}"],
                   "resources": [str(r) for r in _as_list(statement.get("Resource"))][:10],
                   "conditions": conditions, "restricting_conditions": _restricting(conditions)}
        if public:
            grants["public"].append(summary)
        if accounts:
            grants["cross_account"].append(summary | {"accounts": sorted(accounts)})
            grants["accounts"] |= accounts
    return grants


def _principals(statement, owner_account):
    """(allows everyone, other accounts named) for one statement. Allow with NotPrincipal grants
    everyone except the principals listed, so it counts as everyone."""
    if "NotPrincipal" in statement:
        return True, set()
    principal = statement.get("Principal")
    if principal == "*":
        return True, set()
    public, accounts = False, set()
    if isinstance(principal, dict):
        for value in _as_list(principal.get("AWS")):
            value = str(value).strip()
            if value == "*":
                public = True
                continue
            match = ACCOUNT_IN_ARN.match(value)
            account = match.group(1) if match else value if re.fullmatch(r"\d{12}", value) else None
            if account and account != owner_account:
                accounts.add(account)
    return public, accounts


def _restricting(conditions):
    """The condition keys of a statement that narrow who can use it."""
    found = []
    for operator, block in conditions.items():
        if not isinstance(block, dict) or str(operator).lower().startswith("null"):
            continue
        for key, values in block.items():
            values = {str(v) for v in _as_list(values)}
            if str(key).lower() in RESTRICTING_CONDITION_KEYS and not values <= OPEN_VALUES:
                found.append(f"{operator} {key}")
    return found


def replication_findings(con):
    """PutBucketReplication calls whose destination belongs to another account, or to an owner
    the logs cannot tell (the Account element is optional and S3 checks it only with
    AccessControlTranslation)."""
    found = con.execute("""
        select
            event_time,
            event_name,
            request_parameters->>'$.bucketName' as bucket,
            actor,
            source_ip,
            recipient_account_id,
            aws_region,
            event_id,
            error_code,
            coalesce(recipient_account_id, user_account_id) as owner_account,
            request_parameters->'$.ReplicationConfiguration' as configuration,
            user_agent
        from scoped_events
        where event_source = 's3.amazonaws.com'
          and event_name = 'PutBucketReplication'
    """).fetchall()
    calls = [(row, replication_destinations(row[10])) for row in found]
    owners = bucket_owners(con, sorted({d["bucket"] for _, destinations in calls for d in destinations
                                        if not d["account"]}))
    for row, destinations in calls:
        time, name, bucket, actor, ip, account, region, event_id, error, owner, configuration, agent = row
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
            summary = f"bucket {bucket or '?'} set to replicate to {text}"
        elif unknown:
            severity = "low"
            summary = (f"bucket {bucket or '?'} set to replicate to {', '.join(d['bucket'] for d in unknown)}, "
                       "whose owner is neither given nor seen in these logs")
        elif not destinations and error and re.search(r"AccessDenied|Unauthorized", error, re.IGNORECASE):
            severity = "medium"
            summary = f"bucket {bucket or '?'}: replication set-up denied, destination not recorded"
        else:
            continue
        yield (time, name, f"bucket {bucket or '?'}", actor, ip, account, region, event_id, error, time, [event_id],
               severity, summary, {"external_destinations": external, "destinations_owner_unknown": unknown,
                                   "role": _replication_role(configuration), "bucket_owner": owner, "user_agent": agent})


def replication_destinations(configuration_json):
    """[{bucket, account, owner_override}] of a replication configuration (Rule is one object or a list)."""
    try:
        configuration = orjson.loads(configuration_json) if configuration_json else None
    except orjson.JSONDecodeError:
        return []
    if not isinstance(configuration, dict):
        return []
    destinations = []
    for rule in _as_list(configuration.get("Rule") or configuration.get("Rules")):
        destination = rule.get("Destination") if isinstance(rule, dict) else None
        if not isinstance(destination, dict) or not destination.get("Bucket"):
            continue
        arn = str(destination["Bucket"])
        translation = destination.get("AccessControlTranslation")
        entry = {"bucket": arn.removeprefix("arn:aws:s3:::"),
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
    found = con.execute("""
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
    """, {"arns": arns}).fetchall()
    return {arn.removeprefix("arn:aws:s3:::"): owners[0] for arn, owners in found if len(owners) == 1}


DETECTIONS = [
    Detection(
        id="ebs_snapshot_shared",
        title="EBS snapshot shared with another account or made public",
        severity="high",
        mitre=("T1537",),
        description="Detects ModifySnapshotAttribute calls that add createVolumePermission for another "
                    "account (userId) or for everyone (group \"all\", critical). Whoever a snapshot is shared "
                    "with can create a volume from it in their own account and read every file on the disk; "
                    "attackers share snapshots to copy data out without downloading anything.",
        false_positives="Backups or golden images shared with your own other accounts (disaster recovery, "
                        "a central backup account); vendors given a disk image on purpose.",
        triage=("Check whether the account ids in the summary belong to your organisation.",
                "Remove the permission: `aws ec2 modify-snapshot-attribute --snapshot-id ID --attribute "
                "createVolumePermission --operation-type remove --user-ids ACCOUNT` (or `--group-names all`).",
                "Review what else the caller did (CreateSnapshot just before is the usual pattern)."),
        sql="""
            select
                event_time,
                event_name,
                concat(shared_kind, ' ', shared_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                share_severity as severity,
                share_summary as summary,
                {'accounts_added': accounts_added, 'groups_added': groups_added,
                 'organizations_added': organizations_added, 'request': request_parameters,
                 'user_agent': user_agent} as details
            from exfiltration_shares
            where event_name = 'ModifySnapshotAttribute'
              and is_share
        """,
    ),
    Detection(
        id="ami_shared",
        title="AMI shared with another account or made public",
        severity="high",
        mitre=("T1537",),
        description="Detects ModifyImageAttribute calls that add launchPermission for another account, an "
                    "organisation or organisational unit (medium), or everyone (group \"all\", critical). An "
                    "AMI carries its snapshots: whoever can launch it can read the disk, including keys and "
                    "credentials baked into the image.",
        false_positives="Images published on purpose (marketplace, community AMIs) or shared with your own "
                        "accounts or organisation.",
        triage=("Check whether the accounts or organisation in the summary are yours.",
                "Remove the permission: `aws ec2 modify-image-attribute --image-id ID --launch-permission "
                "\"Remove=[{UserId=ACCOUNT}]\"` and check `aws ec2 describe-image-attribute --attribute launchPermission`.",
                "Look for CreateImage shortly before by the same caller."),
        sql="""
            select
                event_time,
                event_name,
                concat(shared_kind, ' ', shared_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                share_severity as severity,
                share_summary as summary,
                {'accounts_added': accounts_added, 'groups_added': groups_added,
                 'organizations_added': organizations_added, 'request': request_parameters,
                 'user_agent': user_agent} as details
            from exfiltration_shares
            where event_name = 'ModifyImageAttribute'
              and is_share
        """,
    ),
    Detection(
        id="rds_snapshot_shared",
        title="RDS snapshot shared with another account or made public",
        severity="high",
        mitre=("T1537",),
        description="Detects ModifyDBSnapshotAttribute and ModifyDBClusterSnapshotAttribute calls that add "
                    "accounts to the restore attribute (valuesToAdd), or \"all\" (public, critical). The "
                    "receiving account can restore the whole database from the snapshot.",
        false_positives="Snapshots shared with your own backup or analytics accounts.",
        triage=("Check whether the account ids in the summary belong to your organisation.",
                "Remove the share: `aws rds modify-db-snapshot-attribute --db-snapshot-identifier ID "
                "--attribute-name restore --values-to-remove ACCOUNT`.",
                "Look for CreateDBSnapshot or CopyDBSnapshot by the same caller just before."),
        sql="""
            select
                event_time,
                event_name,
                concat(shared_kind, ' ', shared_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                share_severity as severity,
                share_summary as summary,
                {'accounts_added': accounts_added, 'groups_added': groups_added,
                 'organizations_added': organizations_added, 'request': request_parameters,
                 'user_agent': user_agent} as details
            from exfiltration_shares
            where event_name in ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
              and is_share
        """,
    ),
    Detection(
        id="bucket_policy_granted_public_or_cross_account",
        title="Bucket policy allows everyone or another account",
        severity="high",
        mitre=("T1537", "T1530"),
        description="Detects PutBucketPolicy calls whose policy has an Allow statement for everyone "
                    "(Principal \"*\", {\"AWS\": \"*\"}, or NotPrincipal; critical) or for an account other "
                    "than the bucket owner (high). Opening a bucket policy is the quickest way to hand a "
                    "bucket's data to an outside account or to the Internet. Statements for everyone that "
                    "carry conditions narrowing who can use them (organisation, VPC endpoint, source IP) are "
                    "reported at low severity with the conditions listed.",
        false_positives="Static websites and public datasets; buckets shared on purpose with partner or "
                        "organisation accounts; log buckets that other accounts write to.",
        triage=("Read the policy in the finding's details: which actions, which resources, which conditions.",
                "Check whether the accounts named are yours; check the bucket's Block Public Access settings "
                "(`aws s3api get-public-access-block --bucket NAME`).",
                "If unexpected, restore the previous policy and look for GetObject calls from outside "
                "(bucket_objects_read_in_bulk needs S3 data events)."),
        find=bucket_policy_findings,
    ),
    Detection(
        id="public_access_block_removed",
        title="S3 Block Public Access removed or weakened",
        severity="medium",
        mitre=("T1562", "T1530"),
        description="Detects DeleteBucketPublicAccessBlock, and PutBucketPublicAccessBlock that leaves any "
                    "of BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy or RestrictPublicBuckets off, "
                    "and the account-level equivalents (Put/DeleteAccountPublicAccessBlock, high). Block "
                    "Public Access overrides public policies and ACLs; removing it is the step before making "
                    "a bucket public. A setting left out of a Put request is off.",
        false_positives="Teams setting up a public website or dataset bucket; infrastructure code that "
                        "writes the configuration with some settings off on purpose.",
        triage=("Check the bucket's (or account's) current settings: `aws s3api get-public-access-block "
                "--bucket NAME` or `aws s3control get-public-access-block --account-id ID`.",
                "Look for PutBucketPolicy or PutBucketAcl on the same bucket just after.",
                "Turn the settings back on if nobody meant to remove them."),
        sql="""
            with requests as (
                select
                    *,
                    event_name like '%Account%' or event_name in ('PutPublicAccessBlock', 'DeletePublicAccessBlock')
                        or event_source = 's3-control.amazonaws.com' as account_level,
                    coalesce(request_parameters->'$.PublicAccessBlockConfiguration',
                             request_parameters->'$.publicAccessBlockConfiguration') as configuration
                from scoped_events
                where event_source in ('s3.amazonaws.com', 's3-control.amazonaws.com')
                  and event_name in ('DeleteBucketPublicAccessBlock', 'PutBucketPublicAccessBlock',
                                     'DeleteAccountPublicAccessBlock', 'PutAccountPublicAccessBlock',
                                     'DeletePublicAccessBlock', 'PutPublicAccessBlock')
            ),
            settings as (
                select
                    *,
                    case when event_name like 'Delete%'
                         then ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets']
                         else list_filter([
                             case when coalesce(lower(configuration->>'$.BlockPublicAcls'), 'false') <> 'true' then 'BlockPublicAcls' end,
                             case when coalesce(lower(configuration->>'$.IgnorePublicAcls'), 'false') <> 'true' then 'IgnorePublicAcls' end,
                             case when coalesce(lower(configuration->>'$.BlockPublicPolicy'), 'false') <> 'true' then 'BlockPublicPolicy' end,
                             case when coalesce(lower(configuration->>'$.RestrictPublicBuckets'), 'false') <> 'true' then 'RestrictPublicBuckets' end
                         ], lambda s: s is not null)
                    end as turned_off
                from requests
                where event_name like 'Delete%'
                   or configuration is not null
            )
            select
                event_time,
                event_name,
                case when account_level then concat('account ', recipient_account_id)
                     else concat('bucket ', coalesce(request_parameters->>'$.bucketName', '?')) end as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when account_level then 'high' end as severity,
                concat(case when account_level then concat('account ', recipient_account_id)
                            else concat('bucket ', coalesce(request_parameters->>'$.bucketName', '?')) end,
                       case when event_name like 'Delete%' then ': Block Public Access deleted (all four settings off)'
                            else concat(': Block Public Access set with ', array_to_string(turned_off, ', '), ' off') end) as summary,
                {'turned_off': turned_off, 'configuration': configuration, 'user_agent': user_agent} as details
            from settings
            where len(turned_off) > 0
        """,
    ),
    Detection(
        id="bucket_replicated_to_other_account",
        title="Bucket replication set up to another account",
        severity="high",
        mitre=("T1537", "T1020"),
        description="Detects PutBucketReplication calls whose destination bucket belongs to another account "
                    "(Destination.Account, or the destination's owner as recorded in other S3 events). Once "
                    "set, S3 itself copies every new object to the destination: a quiet, continuous "
                    "exfiltration channel. A destination whose owner is neither given nor seen in the logs "
                    "is reported at low severity.",
        false_positives="Replication to your own backup or disaster-recovery account.",
        triage=("Check whether the destination account belongs to your organisation.",
                "Read the configuration: `aws s3api get-bucket-replication --bucket NAME`; check the IAM role "
                "it uses and whether it was just created.",
                "Delete the replication if unexpected (`aws s3api delete-bucket-replication --bucket NAME`)."),
        find=replication_findings,
    ),
    Detection(
        id="secrets_read_in_bulk",
        title="Many secrets read by one identity",
        severity="high",
        mitre=("T1555.006", "T1555"),
        description="Detects an identity reading at least secret_read_distinct different secrets within "
                    "secret_read_minutes (Secrets Manager GetSecretValue / BatchGetSecretValue, SSM "
                    "GetParameter(s) / GetParametersByPath with decryption, EC2 GetPasswordData), or making "
                    "at least secret_read_calls such calls (medium when only this count is reached). Denied "
                    "reads count: an attacker with stolen credentials tries every secret, allowed or not. "
                    "AWS services calling as themselves (user type AWSService) are left out. One finding per "
                    "burst, with every event.",
        false_positives="Applications or deployment pipelines that load many secrets at start-up; "
                        "applications that do not cache a secret and read it on every request (calls "
                        "threshold); AWS services acting for a user (invoked_by in details).",
        triage=("Compare with the identity's usual behaviour: is it an application role or a person?",
                "List what was read (details.items) and rotate those secrets if the caller is not trusted.",
                "Check the source IP and user agent against the identity's other calls (analyze_actor.py)."),
        sql="""
            -- Windows run on numbers only (hashes of caller, item and event id): sorting and
            -- counting distinct strings over millions of reads is several times slower.
            with items as (
                select
                    event_time,
                    hash(caller) as caller_key,
                    hash(event_id) as call_key,
                    hash(concat(secret_kind, ':', unnest(secret_names))) as item_key
                from exfiltration_secret_reads
                where event_time is not null
                  and coalesce(user_type, '') <> 'AWSService'
            ),
            measured as (
                select
                    caller_key,
                    event_time,
                    count(distinct item_key) over recent as items_in_window,
                    count(distinct call_key) over recent as calls_in_window
                from items
                window recent as (
                    partition by caller_key
                    order by event_time
                    range between to_minutes(getvariable('secret_read_minutes')::bigint) preceding and current row
                )
            ),
            -- A window that reaches a threshold is hot; hot windows that overlap form one burst.
            hot as (
                select
                    *,
                    event_time - lag(event_time) over (partition by caller_key order by event_time) as gap
                from measured
                where items_in_window >= getvariable('secret_read_distinct')
                   or calls_in_window >= getvariable('secret_read_calls')
            ),
            bursts as (
                select
                    caller_key,
                    burst,
                    min(event_time) - to_minutes(getvariable('secret_read_minutes')::bigint) as burst_start,
                    max(event_time) as burst_end,
                    max(items_in_window) as peak_items,
                    max(calls_in_window) as peak_calls,
                    arg_max(event_time, items_in_window) as peak_at
                from (
                    select
                        *,
                        sum(case when gap is null or gap > to_minutes(getvariable('secret_read_minutes')::bigint) then 1 else 0 end)
                            over (partition by caller_key order by event_time rows between unbounded preceding and current row) as burst
                    from hot
                )
                group by caller_key, burst
            ),
            reads as (
                select
                    r.*,
                    b.burst,
                    b.peak_items,
                    b.peak_calls,
                    b.peak_at,
                    unnest(r.secret_names) as secret_name,
                    concat(r.secret_kind, ':', secret_name) as item
                from exfiltration_secret_reads as r
                join bursts as b
                  on hash(r.caller) = b.caller_key
                 and r.event_time between b.burst_start and b.burst_end
                where coalesce(r.user_type, '') <> 'AWSService'
            )
            select
                min(event_time) as event_time,
                string_agg(distinct event_name, ', ' order by event_name) as event_name,
                concat(count(distinct item), ' ', string_agg(distinct secret_kind || 's', ' and ' order by secret_kind || 's'), ': ',
                       array_to_string(list_sort(list_distinct(list(secret_name)))[:3], ', '),
                       case when count(distinct secret_name) > 3 then ', ...' else '' end) as resource,
                caller as actor,
                string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
                string_agg(distinct recipient_account_id, ', ' order by recipient_account_id) as account_id,
                string_agg(distinct aws_region, ', ' order by aws_region) as region,
                arg_min(event_id, event_time) as event_id,
                case when bool_and(error_code is not null) then min(error_code) end as error_code,
                max(event_time) as last_time,
                list_transform(list_sort(list_distinct(list(struct_pack(t := event_time, id := event_id)))),
                               lambda e: e.id) as event_ids,
                case when max(peak_items) < getvariable('secret_read_distinct') then 'medium' end as severity,
                concat(count(distinct item), ' distinct ', string_agg(distinct secret_kind || 's', ' and ' order by secret_kind || 's'),
                       ' requested in ', count(distinct event_id), ' call(s)',
                       case when bool_and(error_code is not null) then ', all denied or failed'
                            when count(error_code) > 0
                            then concat(', ', count(distinct event_id) filter (where error_code is not null), ' of them denied or failed')
                            else '' end,
                       '; peak ', max(peak_items), ' distinct in ', max(peak_calls), ' call(s) within ',
                       getvariable('secret_read_minutes'), ' minutes up to ', strftime(any_value(peak_at), '%Y-%m-%d %H:%M')) as summary,
                {'calls': count(distinct event_id),
                 'failed_calls': count(distinct event_id) filter (where error_code is not null),
                 'distinct_items': count(distinct item),
                 'peak_distinct_in_window': max(peak_items),
                 'peak_calls_in_window': max(peak_calls),
                 'peak_window_end': any_value(peak_at),
                 'items': list_sort(list_distinct(list(item)))[:100],
                 'kinds': list_distinct(list(secret_kind)),
                 'error_codes': list_distinct(list(error_code)),
                 'user_agents': list_distinct(list(user_agent))[:5],
                 'invoked_by': list_distinct(list(invoked_by))} as details
            from reads
            group by caller, burst
        """,
    ),
    Detection(
        id="secrets_batch_read_by_filter",
        title="Secrets read in bulk by filter (BatchGetSecretValue)",
        severity="medium",
        mitre=("T1555.006",),
        description="Detects BatchGetSecretValue calls that select secrets by filter instead of naming them "
                    "(secretIdList), one finding per caller and filter for calls close together (pages). One "
                    "call returns the values of up to 20 matching secrets and its record names only the "
                    "filter; a filter whose values are all negated (e.g. tag-key \"!NoSuchTag\") matches "
                    "every secret and is reported as high.",
        false_positives="Applications that load their configuration by tag or name prefix at start-up.",
        triage=("Read the filter in the summary: what would it match in this account and region "
                "(`aws secretsmanager list-secrets --filters ...`)?",
                "Check whether the caller normally reads secrets this way; rotate the matching secrets if not."),
        sql="""
            with calls as (
                select
                    *,
                    (request_parameters->'$.filters')::varchar as filters,
                    len(list_filter(json_extract_string(request_parameters, '$.filters[*].values[*]'),
                                    lambda v: not starts_with(v, '!'))) = 0 as matches_every_secret
                from scoped_events
                where event_source = 'secretsmanager.amazonaws.com'
                  and event_name = 'BatchGetSecretValue'
                  and coalesce(json_array_length(request_parameters->'$.secretIdList'), 0) = 0
                  and coalesce(json_array_length(request_parameters->'$.filters'), 0) > 0
            ),
            -- Pages of one listing (nextToken) and repeats of the same filter close together are one finding.
            runs as (
                select
                    *,
                    sum(case when gap is null or gap > to_minutes(getvariable('secret_read_minutes')::bigint) then 1 else 0 end)
                        over (partition by actor, recipient_account_id, aws_region, filters order by event_time, event_id
                              rows between unbounded preceding and current row) as run
                from (
                    select
                        *,
                        event_time - lag(event_time) over (partition by actor, recipient_account_id, aws_region, filters
                                                           order by event_time, event_id) as gap
                    from calls
                )
            )
            select
                min(event_time) as event_time,
                'BatchGetSecretValue' as event_name,
                concat('secrets matching ', filters) as resource,
                actor,
                string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                arg_min(event_id, event_time) as event_id,
                case when bool_and(error_code is not null) then min(error_code) end as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time, event_id) as event_ids,
                case when bool_and(matches_every_secret) then 'high' end as severity,
                concat(count(*), ' BatchGetSecretValue call(s) selecting secrets by filter ', filters,
                       case when bool_and(matches_every_secret) then ' (matches every secret)' else '' end,
                       case when count(error_code) > 0 then concat(', ', count(error_code), ' of them denied or failed') else '' end) as summary,
                {'calls': count(*), 'failed_calls': count(error_code), 'filters': any_value(request_parameters->'$.filters'),
                 'matches_every_secret': bool_and(matches_every_secret),
                 'user_agents': list_distinct(list(user_agent))[:5]} as details
            from runs
            group by actor, recipient_account_id, aws_region, filters, run
        """,
    ),
    Detection(
        id="bucket_objects_read_in_bulk",
        title="Unusual volume of S3 object reads by one identity",
        severity="medium",
        mitre=("T1530",),
        description="Detects an identity whose GetObject calls on one bucket within object_read_minutes reach "
                    "object_read_calls or object_read_megabytes (bytes from additionalEventData.bytesTransferredOut), "
                    "or reach object_read_baseline_factor times its usual calls per window and at least "
                    "object_read_baseline_minimum (usual = the median over the identity's windows with reads, "
                    "all buckets, all data loaded; three such windows are needed). An identity that usually "
                    "reads more than the fixed thresholds is judged against its usual volume only. High when "
                    "both tests are met. Reading a bucket in bulk is how stolen credentials turn into stolen "
                    "data. Needs S3 data events: see Notes for whether the data has any.",
        false_positives="Backups, data pipelines, analytics jobs and new applications reading a bucket in "
                        "full; CloudFront or other services fetching objects.",
        triage=("Check who the reader is and whether it normally reads this bucket (details give its usual volume).",
                "List the objects read: `select object_key, bytes_out from s3_object_reads where reader = ... order by event_time`.",
                "If unexpected, revoke the credentials and check the bucket policy for outside grants."),
        sql="""
            with usual as (
                select
                    reader_key,
                    case when count(*) >= 3 then median(reads) end as usual_reads,
                    case when count(*) >= 3 then median(bytes) end as usual_bytes,
                    count(*) as active_windows
                from (
                    select
                        hash(reader) as reader_key,
                        time_bucket(to_minutes(getvariable('object_read_minutes')::bigint), event_time) as slot,
                        count(*) as reads,
                        coalesce(sum(bytes_out), 0) as bytes
                    from s3_object_reads_all
                    where event_time is not null
                    group by reader_key, slot
                )
                group by reader_key
            ),
            -- The reads in scope as numbers (hashes of reader and bucket): sorting strings and carrying
            -- wide rows through a window over millions of reads is several times slower.
            reads as materialized (
                select
                    event_id,
                    event_time,
                    hash(reader, bucket) as read_key,
                    hash(reader) as reader_key,
                    bytes_out,
                    time_bucket(to_minutes(getvariable('object_read_minutes')::bigint), event_time) as slot,
                    reader,
                    bucket,
                    object_key,
                    source_ip,
                    recipient_account_id,
                    aws_region,
                    error_code,
                    user_agent
                from s3_object_reads
                where event_time is not null
            ),
            -- Any window of object_read_minutes lies within two consecutive fixed slots, so only slots
            -- whose reads, added to the slot before, could reach a threshold need the sliding count.
            slots as (
                select
                    read_key,
                    slot,
                    count(*) as reads,
                    coalesce(sum(bytes_out), 0) as bytes
                from reads
                group by read_key, slot
            ),
            candidate_slots as (
                select
                    s.read_key,
                    s.slot
                from slots as s
                left join slots as p
                  on p.read_key = s.read_key
                 and p.slot = s.slot - to_minutes(getvariable('object_read_minutes')::bigint)
                where s.reads + coalesce(p.reads, 0) >= least(getvariable('object_read_calls'), getvariable('object_read_baseline_minimum'))
                   or s.bytes + coalesce(p.bytes, 0) >= getvariable('object_read_megabytes') * 1048576
            ),
            measured as (
                select
                    *,
                    count(*) over recent as reads_in_window,
                    coalesce(sum(bytes_out) over recent, 0) as bytes_in_window
                from reads
                semi join (
                    select read_key, slot from candidate_slots
                    union
                    select read_key, slot - to_minutes(getvariable('object_read_minutes')::bigint) from candidate_slots
                ) as needed using (read_key, slot)
                window recent as (
                    partition by read_key
                    order by event_time
                    range between to_minutes(getvariable('object_read_minutes')::bigint) preceding and current row
                )
            ),
            -- A window above a threshold is hot; hot windows that overlap form one burst. An identity
            -- that usually reads more than the fixed thresholds is judged against its usual volume only.
            hot as (
                select
                    *,
                    event_time - lag(event_time) over (partition by read_key order by event_time) as gap
                from (
                    select
                        m.*,
                        u.usual_reads,
                        u.active_windows,
                        (m.reads_in_window >= getvariable('object_read_calls')
                            and coalesce(u.usual_reads, 0) < getvariable('object_read_calls'))
                        or (m.bytes_in_window >= getvariable('object_read_megabytes') * 1048576
                            and coalesce(u.usual_bytes, 0) < getvariable('object_read_megabytes') * 1048576) as large,
                        coalesce(m.reads_in_window >= getvariable('object_read_baseline_factor') * u.usual_reads
                                 and m.reads_in_window >= getvariable('object_read_baseline_minimum'), false) as unusual
                    from measured as m
                    left join usual as u using (reader_key)
                )
                where large or unusual
            ),
            bursts as (
                select
                    read_key,
                    burst,
                    min(event_time) - to_minutes(getvariable('object_read_minutes')::bigint) as burst_start,
                    max(event_time) as burst_end,
                    bool_or(large) as large,
                    bool_or(unusual) as unusual,
                    max(reads_in_window) as peak_reads,
                    arg_max(event_time, reads_in_window) as peak_at,
                    max(bytes_in_window) as peak_bytes,
                    any_value(usual_reads) as usual_reads,
                    any_value(active_windows) as active_windows
                from (
                    select
                        *,
                        sum(case when gap is null or gap > to_minutes(getvariable('object_read_minutes')::bigint) then 1 else 0 end)
                            over (partition by read_key order by event_time rows between unbounded preceding and current row) as burst
                    from hot
                )
                group by read_key, burst
            ),
            -- Every read inside a burst lies in a candidate slot or the slot before it, so the
            -- measured reads hold them all.
            burst_reads as (
                select
                    m.*,
                    b.burst,
                    b.large,
                    b.unusual,
                    b.peak_reads,
                    b.peak_at,
                    b.peak_bytes,
                    b.usual_reads,
                    b.active_windows
                from bursts as b
                join measured as m
                  on m.read_key = b.read_key
                 and m.event_time between b.burst_start and b.burst_end
            )
            select
                min(r.event_time) as event_time,
                'GetObject' as event_name,
                concat('bucket ', r.bucket) as resource,
                r.reader as actor,
                string_agg(distinct r.source_ip, ', ' order by r.source_ip) as source_ip,
                string_agg(distinct r.recipient_account_id, ', ' order by r.recipient_account_id) as account_id,
                string_agg(distinct r.aws_region, ', ' order by r.aws_region) as region,
                arg_min(r.event_id, r.event_time) as event_id,
                case when bool_and(r.error_code is not null) then min(r.error_code) end as error_code,
                max(r.event_time) as last_time,
                list(r.event_id order by r.event_time, r.event_id) as event_ids,
                case when any_value(r.large) and any_value(r.unusual) then 'high' end as severity,
                concat(count(*), ' object(s) read (', count(distinct r.object_key), ' distinct keys',
                       case when sum(r.bytes_out) is not null then concat(', ', format_bytes(sum(r.bytes_out)::bigint)) else '' end,
                       ') from ', r.bucket, '; peak ', any_value(r.peak_reads), ' within ', getvariable('object_read_minutes'),
                       ' minutes up to ', strftime(any_value(r.peak_at), '%Y-%m-%d %H:%M'),
                       case when any_value(r.usual_reads) is not null
                            then concat('; it usually reads ', round(any_value(r.usual_reads))::bigint, ' per window')
                            else '; too little history for a usual volume' end) as summary,
                {'reads': count(*), 'failed_reads': count(*) filter (where r.error_code is not null),
                 'distinct_keys': count(distinct r.object_key), 'bytes_out': sum(r.bytes_out),
                 'peak_reads_in_window': any_value(r.peak_reads), 'peak_window_end': any_value(r.peak_at),
                 'peak_bytes_in_window': any_value(r.peak_bytes),
                 'usual_reads_per_window': any_value(r.usual_reads), 'windows_with_reads': any_value(r.active_windows),
                 'above_fixed_threshold': any_value(r.large), 'above_usual_volume': any_value(r.unusual),
                 'sample_keys': list_sort(list_distinct(list(r.object_key)))[:20],
                 'user_agents': list_distinct(list(r.user_agent))[:5]} as details
            from burst_reads as r
            group by r.reader, r.bucket, r.burst
        """,
    ),
]


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
    labels = [f"{common.short_identity(reader, with_account=False)} from {ip or '?'} / {bucket}" for reader, ip, bucket, _, _ in readers]
    objects = charts.bar_chart(
        labels, [round(row[4] / 1e6, 1) if by_bytes else row[3] for row in readers],
        "S3 data read (GetObject) by identity, IP and bucket",
        "MB transferred out" if by_bytes else "GetObject calls",
        common.new_output_path(folder, "exfiltration_object_reads", ".png", moment), label_limit=48)
    return [("Secret and password read calls by identity", secrets),
            ("S3 data read per identity, source IP and bucket", objects)]


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.run_detector(
        args, AREA, DETECTIONS, extra_charts=[data_access_charts]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
