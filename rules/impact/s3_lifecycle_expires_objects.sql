/*
id: s3_lifecycle_expires_objects
title: S3 lifecycle rule set to expire objects or old versions within days
severity: high
mitre: [T1485, T1490]
status: stable
description: >
  Detects PutBucketLifecycle(Configuration) calls with an enabled rule that expires current
  objects, or permanently removes noncurrent versions, after fewer than
  lifecycle_expiry_days days. S3 then deletes the data itself, with no DeleteObject call in
  CloudTrail: a quiet way to destroy a bucket, or to make sure the versions an attacker
  overwrote or deleted cannot be restored. A rule that covers the whole bucket is high, a rule
  limited to a prefix or tag is medium. Expiring only incomplete multipart uploads or delete
  markers, or transitions to other storage classes, are not reported.
false_positives: >
  Scratch, cache or staging buckets (or prefixes) whose objects are meant to live for a day or
  two; log buckets with short retention (these are also reported by the defense_evasion area).
triage:
  - Read the rules in details.short_rules (prefix, days) and compare with the bucket's purpose and the owner's earlier lifecycle settings (aws s3api get-bucket-lifecycle-configuration).
  - If unexpected, delete the rule at once: expiry runs daily and cannot be undone.
  - Look for versioning suspended, mass deletes or re-encryption by the same principal.
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
  - https://attack.mitre.org/techniques/T1485/
*/
with lifecycle as (
    select
        *,
        case when json_type(request_parameters, '$.LifecycleConfiguration.Rule') = 'ARRAY'
             then json_extract(request_parameters, '$.LifecycleConfiguration.Rule[*]')
             else [json_extract(request_parameters, '$.LifecycleConfiguration.Rule')] end as rules
    from impact_s3
    where event_name in ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
),
short as (
    select
        *,
        list_filter(rules, lambda r: r->>'$.Status' = 'Enabled'
            and (try_cast(r->>'$.Expiration.Days' as double) < getvariable('lifecycle_expiry_days')
                 or try_cast(r->>'$.NoncurrentVersionExpiration.NoncurrentDays' as double) < getvariable('lifecycle_expiry_days'))
        ) as short_rules
    from lifecycle
)
select
    event_id,
    bucket as resource,
    concat(attempt, 'bucket ', bucket, ': lifecycle rule(s) ',
           string_agg_rules, ' expire data within ', min_days, ' day(s)') as summary,
    {'short_rules': short_rules, 'user_agent': user_agent} as details,
    case when whole_bucket then null else 'medium' end as severity
from (
    select
        *,
        array_to_string(list_transform(short_rules, lambda r: coalesce(r->>'$.ID', '(no id)')), ', ') as string_agg_rules,
        list_min(list_transform(short_rules, lambda r: least(
            coalesce(try_cast(r->>'$.Expiration.Days' as double), 1e9),
            coalesce(try_cast(r->>'$.NoncurrentVersionExpiration.NoncurrentDays' as double), 1e9))))::bigint as min_days,
        list_bool_or(list_transform(short_rules, lambda r:
            coalesce(r->>'$.Filter.Prefix', r->>'$.Prefix', '') = ''
            and (r->'$.Filter.Tag') is null and (r->'$.Filter.And') is null)) as whole_bucket
    from short
    where len(short_rules) > 0
)
