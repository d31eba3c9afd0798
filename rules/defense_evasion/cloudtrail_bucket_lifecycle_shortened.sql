/*
id: cloudtrail_bucket_lifecycle_shortened
title: Log bucket set to delete objects after a few days
severity: high
mitre: [T1562.008, T1070]
status: stable
description: >
  Detects S3 lifecycle rules (PutBucketLifecycle) that expire objects after fewer than
  short_retention_days days on a bucket that holds CloudTrail logs (high) or whose name suggests
  logs (medium). S3 then deletes the log files itself, destroying the record of the attack
  without any DeleteObject call.
false_positives: >
  Scratch or staging buckets with 'log' in their name; log buckets whose logs are copied
  elsewhere before they expire.
triage:
  - Check whether the bucket is the destination of a trail (`aws cloudtrail describe-trails`) and whether log files older than the rule's age are already gone.
  - Remove or lengthen the rule; check versioning and Object Lock on the bucket.
  - 'Review the caller''s other actions: this is usually done just before or after the actions the attacker wants forgotten.'
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://attack.mitre.org/techniques/T1070/
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
*/
with lifecycle as (
    select
        *,
        request_parameters->>'$.bucketName' as bucket,
        case when json_type(request_parameters, '$.LifecycleConfiguration.Rule') = 'ARRAY'
             then json_extract(request_parameters, '$.LifecycleConfiguration.Rule[*]')
             else [json_extract(request_parameters, '$.LifecycleConfiguration.Rule')] end as rules
    from scoped_events
    where event_source = 's3.amazonaws.com'
      and event_name in ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
),
short as (
    select
        l.*,
        list_filter(l.rules, lambda r: r->>'$.Status' = 'Enabled'
            and try_cast(r->>'$.Expiration.Days' as double) < getvariable('short_retention_days')) as short_rules,
        b.how as known_as
    from lifecycle as l
    left join evasion_trail_buckets as b
      on b.bucket = l.bucket
)
select
    coalesce(bucket, evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    case when known_as is null then 'medium' end as severity,
    evasion_attempt(error_code) ||
    concat('bucket ', bucket, case when known_as is not null then ' (CloudTrail logs: ' || known_as || ')'
           else ' (name suggests logs)' end, ': objects expire after ',
           list_min(list_transform(short_rules, lambda r: try_cast(r->>'$.Expiration.Days' as double)))::bigint,
           ' day(s)') as summary,
    {'cloudtrail_bucket': known_as, 'short_rules': short_rules, 'user_agent': user_agent} as details
from short
where len(short_rules) > 0
  and (known_as is not null
       or regexp_matches(lower(bucket), '(trail|(^|[^a-z])logs?([^a-z]|$)|logging|audit)'))
