/*
id: s3_objects_deleted_in_burst
title: Burst of S3 object deletions by one principal
severity: high
mitre: [T1485]
status: stable
description: >
  Detects one principal calling DeleteObject or DeleteObjects on one bucket at least
  s3_delete_calls times, with no pause longer than s3_delete_minutes between calls. Mass
  deletion is how an attacker destroys data or removes the originals after copying them out
  (the ransom note then asks for payment to give them back). DeleteObjects removes up to 1,000
  objects per call and CloudTrail does not list their keys, so each DeleteObjects call stands
  for many objects: details give both counts. Needs S3 data events in the trail. Deletions made
  by AWS itself (lifecycle rules, replication) are not in CloudTrail or are left out.
false_positives: >
  Clean-up jobs, retention scripts and data pipelines that delete in bulk under their own role;
  compare with the principal's earlier runs.
triage:
  - Check details (calls, batch calls, keys) and whether the bucket is versioned (deleted objects are then delete markers that can be removed to restore them).
  - Check whether the same principal read or copied the objects out before deleting them (bucket_objects_read_in_bulk) or left a note object.
  - Confirm with the bucket owner whether a clean-up job runs under this identity.
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
  - https://attack.mitre.org/techniques/T1485/
*/
with deletes as (
    select
        *,
        case when lag(event_time) over w is null
               or event_time - lag(event_time) over w > to_minutes(getvariable('s3_delete_minutes')::bigint)
             then 1 else 0 end as starts
    from impact_s3
    where event_name in ('DeleteObject', 'DeleteObjects') and not by_service
    window w as (partition by principal, bucket order by event_time, event_id)
),
bursts as (
    select *, sum(starts) over (partition by principal, bucket order by event_time, event_id
                                rows between unbounded preceding and current row) as burst
    from deletes
)
select
    list(event_id order by event_time, event_id)[1] as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    bucket as resource,
    concat(case when count(*) filter (where error_code is null) = 0 then 'attempt: ' else '' end,
           count(*), ' delete call(s) on bucket ', bucket,
           case when count(*) filter (where event_name = 'DeleteObjects') > 0
                then concat(' (', count(*) filter (where event_name = 'DeleteObjects'), ' of them DeleteObjects, up to 1,000 objects each)')
                else '' end,
           ' in ', greatest(1, date_diff('minute', min(event_time), max(event_time))), ' minute(s)') as summary,
    {'calls': count(*),
     'batch_calls': count(*) filter (where event_name = 'DeleteObjects'),
     'failed_calls': count(*) filter (where error_code is not null),
     'keys': list(distinct request_parameters->>'$.key' order by request_parameters->>'$.key')[1:20],
     'principal': principal} as details
from bursts
group by principal, bucket, burst
having count(*) >= getvariable('s3_delete_calls')
