/*
id: public_access_block_removed
title: S3 Block Public Access removed or weakened
severity: medium
mitre: [T1562, T1530]
status: stable
description: >
  Detects DeleteBucketPublicAccessBlock, and PutBucketPublicAccessBlock that leaves any of
  BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy or RestrictPublicBuckets off, and the
  account-level equivalents (Put/DeleteAccountPublicAccessBlock, high). Block Public Access
  overrides public policies and ACLs; removing it is the step before making a bucket public. A
  setting left out of a Put request is off.
false_positives: >
  Teams setting up a public website or dataset bucket; infrastructure code that writes the
  configuration with some settings off on purpose.
triage:
  - 'Check the bucket''s (or account''s) current settings: `aws s3api get-public-access-block --bucket NAME` or `aws s3control get-public-access-block --account-id ID`.'
  - Look for PutBucketPolicy or PutBucketAcl on the same bucket just after.
  - Turn the settings back on if nobody meant to remove them.
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
  - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html
  - https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html
  - https://attack.mitre.org/techniques/T1562/
  - https://attack.mitre.org/techniques/T1530/
*/
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
    event_id,
    case when account_level then concat('account ', recipient_account_id)
         else concat('bucket ', coalesce(request_parameters->>'$.bucketName', '?')) end as resource,
    case when account_level then 'high' end as severity,
    concat(case when account_level then concat('account ', recipient_account_id)
                else concat('bucket ', coalesce(request_parameters->>'$.bucketName', '?')) end,
           case when event_name like 'Delete%' then ': Block Public Access deleted (all four settings off)'
                else concat(': Block Public Access set with ', array_to_string(turned_off, ', '), ' off') end) as summary,
    {'turned_off': turned_off, 'configuration': configuration, 'user_agent': user_agent} as details
from settings
where len(turned_off) > 0
