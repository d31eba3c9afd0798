/*
id: s3_versioning_suspended
title: S3 versioning suspended or MFA delete removed
severity: high
mitre: [T1490, T1485]
status: stable
description: >
  Detects PutBucketVersioning calls that suspend versioning or turn MFA delete off. With
  versioning suspended, an overwrite or delete destroys the only copy of an object; it is the
  usual first step of S3 ransomware and mass deletion, taken so that earlier versions cannot be
  restored. A bucket created by the same principal shortly before (a new, empty bucket set up
  without versioning) is left out.
false_positives: >
  Buckets of temporary data whose versioning is switched off to save storage; a template or
  pipeline that sets versioning Suspended on every bucket it manages.
triage:
  - Check whether versioning is still suspended (aws s3api get-bucket-versioning) and whether the same principal then deleted, overwrote or re-encrypted objects in the bucket.
  - Ask the bucket owner whether the change was planned; re-enable versioning (and MFA delete) if not.
  - Review the principal's other calls in the hour around the change (analyze_actor.py).
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
  - https://attack.mitre.org/techniques/T1490/
*/
select
    v.event_id,
    v.bucket as resource,
    concat(v.attempt, 'bucket ', v.bucket, ': ',
           concat_ws(' and ',
                     case when v.request_parameters->>'$.VersioningConfiguration.Status' in ('Suspended', 'Disabled')
                          then 'versioning suspended' end,
                     case when v.request_parameters->>'$.VersioningConfiguration.MfaDelete' = 'Disabled'
                          then 'MFA delete turned off' end)) as summary,
    {'status': v.request_parameters->>'$.VersioningConfiguration.Status',
     'mfa_delete': v.request_parameters->>'$.VersioningConfiguration.MfaDelete',
     'user_agent': v.user_agent} as details
from impact_s3 as v
where v.event_name = 'PutBucketVersioning'
  and (v.request_parameters->>'$.VersioningConfiguration.Status' in ('Suspended', 'Disabled')
       or v.request_parameters->>'$.VersioningConfiguration.MfaDelete' = 'Disabled')
  and not exists (
      select 1 from impact_s3 as c
      where c.event_name = 'CreateBucket' and c.error_code is null
        and c.bucket = v.bucket and c.principal = v.principal
        and c.event_time <= v.event_time
        and c.event_time >= v.event_time - to_minutes(getvariable('impact_new_bucket_minutes')::bigint))
