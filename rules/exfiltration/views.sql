-- Shared normalisation, the views every exfiltration rule reads:
-- - exfiltration_caller(): who called, for grouping. Anonymous S3 callers (userIdentity.accountId
--   ANONYMOUS_PRINCIPAL, principalId "") are told apart by source IP; callers from other accounts
--   (type AWSAccount, no arn) by account and principal id. exfiltration_bucket(): which bucket.
-- - exfiltration_shares: every request to share an EBS snapshot, AMI or RDS snapshot, with the
--   accounts it adds (the account's own id left out), whether it adds "all" (public), and
--   organisations; share_resource, share_severity, share_summary and share_details are what the
--   three sharing rules report. A request that adds something in a shape not understood, or a denied request
--   whose parameters were not recorded, is kept with unreadable = true rather than dropped.
-- - exfiltration_secret_reads(_all): one row per read of secret values, with the names read
--   (secret names, parameter names, instance ids) and their kind.
-- - s3_object_reads(_all): GetObject calls with reader, bucket, key and bytes sent out.
-- - exfiltration_calls: the calls the detections read, for the activity chart.

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
             nullif(regexp_extract(request_parameters->>'$.Host', '^(.+)\.s3[.-]', 1), ''),
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
           end) as share_summary,
    concat(shared_kind, ' ', shared_id) as share_resource,
    {'accounts_added': accounts_added, 'groups_added': groups_added,
     'organizations_added': organizations_added, 'request': request_parameters,
     'user_agent': user_agent} as share_details
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

-- A byte count as people read it, exactly as DuckDB's format_bytes writes it ("1 byte",
-- "812 bytes", "1.5 KiB", "4.1 GiB"), in plain arithmetic that other SQL engines run too: the
-- count in the unit below (whole KiB for a GiB figure ...), then whole units and the tenths of
-- what is left, both cut, not rounded.
create or replace macro exfiltration_in_unit(b, below, name) as
    concat(floor(floor(b / below) / 1024)::bigint, '.',
           floor((floor(b / below)::bigint % 1024) * 10 / 1024)::bigint, ' ', name);

create or replace macro exfiltration_bytes_text(b) as
    case
        when b < 1024 then concat(b, case when b = 1 then ' byte' else ' bytes' end)
        when b < 1048576 then exfiltration_in_unit(b, 1, 'KiB')
        when b < 1073741824 then exfiltration_in_unit(b, 1024, 'MiB')
        when b < 1099511627776 then exfiltration_in_unit(b, 1048576, 'GiB')
        when b < 1125899906842624 then exfiltration_in_unit(b, 1073741824, 'TiB')
        else exfiltration_in_unit(b, 1099511627776, 'PiB')
    end;
