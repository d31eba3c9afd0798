/*
id: s3_objects_encrypted_with_customer_key
title: S3 objects rewritten with a customer-provided key (SSE-C) in bulk
severity: critical
mitre: [T1486]
status: stable
description: >
  Detects one principal writing at least sse_c_objects objects to one bucket with server-side
  encryption with customer-provided keys (SSE-C: CopyObject, PutObject or multipart uploads
  carrying x-amz-server-side-encryption-customer-algorithm), with no pause longer than
  sse_c_minutes. AWS keeps no copy of an SSE-C key: objects copied over themselves this way can
  only be read with the attacker's key. This is the S3 ransomware technique seen in the wild
  (Codefinger, 2025), usually followed by a lifecycle rule that expires the objects.
false_positives: >
  Applications that store every object with SSE-C by design: they show the same pattern every
  day, under the same role; compare with the principal's earlier writes.
triage:
  - Check whether the objects were copied over themselves (details.same_bucket_copies) and whether the principal also set a short lifecycle rule or suspended versioning.
  - Revoke the principal's keys or sessions at once; earlier versions, if versioning was on, still hold the readable data.
  - Ask the application owners whether SSE-C is used by design for this bucket.
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
  - https://aws.amazon.com/blogs/security/preventing-unintended-encryption-of-amazon-s3-objects/
  - https://cpl.thalesgroup.com/blog/data-security/the-rise-of-non-ransomware-attacks-on-aws-s3-data
  - https://attack.mitre.org/techniques/T1486/
*/
with writes as (
    select
        *,
        case when lag(event_time) over w is null
               or event_time - lag(event_time) over w > to_minutes(getvariable('sse_c_minutes')::bigint)
             then 1 else 0 end as starts
    from impact_s3
    where event_name in ('CopyObject', 'PutObject', 'CreateMultipartUpload')
      and (contains(request_parameters::varchar, 'customer-algorithm')
           or contains(coalesce(additional_event_data::varchar, ''), 'SSE_C'))
      and ((request_parameters->>'$."x-amz-server-side-encryption-customer-algorithm"') is not null
           or additional_event_data->>'$.SSEApplied' = 'SSE_C')
    window w as (partition by principal, bucket order by event_time, event_id)
),
bursts as (
    select *, sum(starts) over (partition by principal, bucket order by event_time, event_id
                                rows between unbounded preceding and current row) as burst
    from writes
)
select
    list(event_id order by event_time, event_id)[1] as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    bucket as resource,
    concat(case when count(*) filter (where error_code is null) = 0 then 'attempt: ' else '' end,
           count(*), ' object(s) in bucket ', bucket, ' written with a customer-provided key (SSE-C)',
           case when count(*) filter (where event_name = 'CopyObject'
                                     and request_parameters->>'$."x-amz-copy-source"' like concat('%', bucket, '/%')) > 0
                then concat(', ', count(*) filter (where event_name = 'CopyObject'
                                     and request_parameters->>'$."x-amz-copy-source"' like concat('%', bucket, '/%')),
                            ' copied within the bucket') else '' end) as summary,
    {'objects': count(*),
     'same_bucket_copies': count(*) filter (where event_name = 'CopyObject'
                                     and request_parameters->>'$."x-amz-copy-source"' like concat('%', bucket, '/%')),
     'failed_calls': count(*) filter (where error_code is not null),
     'keys': list(distinct request_parameters->>'$.key' order by request_parameters->>'$.key')[1:20],
     'principal': principal} as details
from bursts
group by principal, bucket, burst
having count(*) >= getvariable('sse_c_objects')
