/*
id: s3_object_lock_weakened
title: S3 Object Lock retention bypassed, shortened or legal hold removed
severity: high
mitre: [T1490, T1485]
status: experimental
description: >
  Detects calls that weaken S3 Object Lock, the protection that keeps backups and records from
  being deleted: PutObjectLockConfiguration changing a bucket's default retention (medium),
  PutObjectLegalHold turning a legal hold OFF (medium), and PutObjectRetention, DeleteObject or
  DeleteObjects sent with x-amz-bypass-governance-retention (high): the caller used the
  s3:BypassGovernanceRetention permission to shorten or ignore governance-mode retention.
false_positives: >
  Records managers releasing legal holds at the end of a case; administrators adjusting the
  default retention of a new bucket.
triage:
  - Check which objects lost their protection (details) and whether they were then deleted or overwritten.
  - Confirm the change with the bucket's owner or records manager.
  - Restrict s3:BypassGovernanceRetention, or use compliance mode for data that must not be deleted.
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html
  - https://attack.mitre.org/techniques/T1490/
*/
with locks as (
    select
        *,
        lower(coalesce(request_parameters->>'$."x-amz-bypass-governance-retention"',
                       request_parameters->>'$.bypassGovernanceRetention', '')) = 'true' as bypass,
        coalesce(request_parameters->>'$.LegalHold.Status', request_parameters->>'$.legalHold.status') as hold_status
    from impact_s3
    where event_name in ('PutObjectLockConfiguration', 'PutObjectLegalHold', 'PutObjectRetention',
                         'DeleteObject', 'DeleteObjects')
      -- deletions matter here only when they bypass retention: a cheap text test first
      and (event_name not in ('DeleteObject', 'DeleteObjects')
           or contains(lower(request_parameters::varchar), 'bypass'))
)
select
    event_id,
    concat(bucket, coalesce('/' || (request_parameters->>'$.key'), '')) as resource,
    concat(attempt, case
        when bypass then concat(event_name, ' on bucket ', bucket, ' bypassed governance-mode retention')
        when event_name = 'PutObjectLegalHold' then concat('legal hold removed from ', bucket, '/', coalesce(request_parameters->>'$.key', '?'))
        else concat('Object Lock default retention of bucket ', bucket, ' changed') end) as summary,
    {'bypass_governance_retention': bypass, 'legal_hold': hold_status,
     'configuration': request_parameters->'$.ObjectLockConfiguration',
     'retention': request_parameters->'$.Retention'} as details,
    case when bypass then null else 'medium' end as severity
from locks
where bypass
   or (event_name = 'PutObjectLegalHold' and upper(hold_status) = 'OFF')
   or event_name = 'PutObjectLockConfiguration'
