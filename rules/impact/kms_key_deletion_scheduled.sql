/*
id: kms_key_deletion_scheduled
title: KMS key scheduled for deletion or disabled
severity: high
mitre: [T1485, T1486]
status: stable
description: >
  Detects ScheduleKeyDeletion and DisableKey. Everything encrypted under a KMS key (EBS volumes
  and snapshots, S3 objects, RDS databases, secrets) becomes unreadable when the key is disabled
  and is lost for good when the deletion completes after the waiting period (7 to 30 days).
  Scheduling deletion with the shortest waiting period, or for several keys, is the destructive
  pattern (high); a single DisableKey is medium. A key created by the same principal earlier in
  the data (its own test or temporary key) is left out.
false_positives: >
  Planned retirement of keys by the security team, usually with a 30-day waiting period and a
  change ticket.
triage:
  - List what the key protects (aws kms list-grants, CloudTrail Decrypt/GenerateDataKey calls naming it) and cancel the deletion if in doubt (aws kms cancel-key-deletion) - possible until the date in details.deletion_date.
  - Re-enable a disabled key (aws kms enable-key) unless the owner confirms.
  - Review the principal's other calls for key policy changes or data deletion.
references:
  - https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html
  - https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
  - https://attack.mitre.org/techniques/T1485/
*/
with calls as (
    select
        *,
        coalesce(request_parameters->>'$.keyId', response_elements->>'$.keyId', '(not recorded)') as key_id,
        try_cast(request_parameters->>'$.pendingWindowInDays' as integer) as pending_days
    from impact_events
    where event_source = 'kms.amazonaws.com' and event_name in ('ScheduleKeyDeletion', 'DisableKey')
),
not_own as (
    select c.*
    from calls as c
    where not exists (
        select 1 from impact_events as k
        where k.event_source = 'kms.amazonaws.com' and k.event_name = 'CreateKey' and k.error_code is null
          and k.principal = c.principal and k.event_time <= c.event_time
          and (c.key_id = k.response_elements->>'$.keyMetadata.keyId'
               or c.key_id = k.response_elements->>'$.keyMetadata.arn'))
)
select
    event_id,
    key_id as resource,
    concat(attempt, case when event_name = 'DisableKey' then concat('KMS key ', key_id, ' disabled')
                         else concat('KMS key ', key_id, ' scheduled for deletion in ',
                                     coalesce(cast(pending_days as varchar), '30 (default)'), ' day(s)') end,
           case when keys_by_principal > 1 then concat(' (', keys_by_principal, ' keys by this principal)') else '' end) as summary,
    {'pending_window_days': pending_days, 'deletion_date': response_elements->>'$.deletionDate',
     'keys_by_principal': keys_by_principal, 'user_agent': user_agent} as details,
    case when event_name = 'ScheduleKeyDeletion' and (pending_days <= 7 or keys_by_principal > 1) then 'high'
         when event_name = 'ScheduleKeyDeletion' then 'medium'
         when keys_by_principal > 1 then 'high'
         else 'medium' end as severity
from (select *, count(distinct key_id) over (partition by principal) as keys_by_principal from not_own)
