/*
id: s3_access_logging_disabled
title: S3 server access logging turned off
severity: medium
mitre: [T1562.008]
status: stable
description: >
  Detects PutBucketLogging with an empty BucketLoggingStatus (no LoggingEnabled), which turns
  off the bucket's server access logs: the record of every object read and write, which
  CloudTrail only has when data events are on. High when the bucket holds CloudTrail logs.
false_positives: >
  Buckets being retired; logging moved to CloudTrail data events.
triage:
  - Check what the bucket holds and whether CloudTrail data events cover it.
  - Confirm with the owner; turn logging back on if unexpected.
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html
*/
select
    coalesce(e.request_parameters->>'$.bucketName',
             evasion_denied_target(e.error_message, e.response_elements)) as resource,
    e.event_id,
    case when b.bucket is not null then 'high' end as severity,
    case when e.error_code is not null then concat('attempt, ', e.error_code, ': ') else '' end ||
    concat('PutBucketLogging with logging off for bucket ', coalesce(e.request_parameters->>'$.bucketName', '?'),
           case when b.bucket is not null then ' (CloudTrail logs: ' || b.how || ')' else '' end) as summary,
    {'cloudtrail_bucket': b.how, 'user_agent': e.user_agent} as details
from scoped_events as e
left join evasion_trail_buckets as b
  on b.bucket = e.request_parameters->>'$.bucketName'
where e.event_source = 's3.amazonaws.com'
  and e.event_name = 'PutBucketLogging'
  and (e.request_parameters->'$.BucketLoggingStatus') is not null
  and (e.request_parameters->'$.BucketLoggingStatus.LoggingEnabled') is null
