/*
id: cloudtrail_trail_updated_to_log_less
title: CloudTrail trail changed to record or keep less
severity: high
mitre: [T1562.008]
status: stable
description: >
  Detects UpdateTrail calls that weaken a trail: log files sent to a different bucket, the trail
  limited to one region, global service events (IAM, STS) or organization coverage turned off,
  log file validation off, the KMS key removed or replaced (high when the new key belongs to
  another account), CloudWatch Logs delivery removed. Only settings that actually changed count
  (see Notes on the console). Denied UpdateTrail calls whose parameters were not recorded are
  reported as low.
false_positives: >
  Logging redesigns (a new central log bucket, a new KMS key) by the team that owns the trails.
triage:
  - 'Read the summary: it lists each weakened setting with its old value where the data has it.'
  - If the bucket or KMS key changed, check who owns the new one (another account?) and whether log files still arrive where the security team reads them.
  - Restore the settings and review the caller's other activity.
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_UpdateTrail.html
*/
with updates as (
    select
        *,
        regexp_extract(request_parameters->>'$.name', '([^/]+)$', 1) as trail_name,
        -- the console, and CloudFormation applying a template, send every setting
        coalesce(session_credential_from_console, false)
            or coalesce(user_agent in ('console.amazonaws.com', 'signin.amazonaws.com', 'AWS Internal'), false)
            or coalesce(user_agent like 'Mozilla/%', false)
            or coalesce(invoked_by = 'cloudformation.amazonaws.com', false) as from_console,
        -- one number per row (even for hand-made records that reuse an event id)
        row_number() over (order by event_time, event_id) as update_number
    from scoped_events
    where event_source = 'cloudtrail.amazonaws.com'
      and event_name = 'UpdateTrail'
),
-- The trail's configuration before each update: the latest earlier one (ties by event_id).
earlier_configs as (
    select
        u.update_number,
        c.*,
        row_number() over (partition by u.update_number order by c.event_time desc, c.event_id desc) as recency
    from updates as u
    join evasion_trail_configs as c
      on c.recipient_account_id = u.recipient_account_id
     and c.trail_name = u.trail_name
     and u.event_time > c.event_time
),
compared as (
    -- new_*: the setting after the call (the response when it succeeded, else what
    -- was asked); was_*: the setting before it; sent_*: the caller sent it.
    select
        u.*,
        c.event_id is not null as prior_known,
        c.event_id as prior_event_id,
        u.request_parameters->>'$.s3BucketName' is not null as sent_bucket,
        coalesce(u.response_elements->>'$.s3BucketName', u.request_parameters->>'$.s3BucketName') as new_bucket,
        c.s3_bucket as was_bucket,
        u.request_parameters->>'$.s3KeyPrefix' is not null as sent_prefix,
        coalesce(u.response_elements->>'$.s3KeyPrefix', u.request_parameters->>'$.s3KeyPrefix') as new_prefix,
        c.s3_prefix as was_prefix,
        u.request_parameters->>'$.isMultiRegionTrail' is not null as sent_multi_region,
        coalesce(u.response_elements->>'$.isMultiRegionTrail', u.request_parameters->>'$.isMultiRegionTrail') as new_multi_region,
        c.multi_region as was_multi_region,
        u.request_parameters->>'$.includeGlobalServiceEvents' is not null as sent_global,
        coalesce(u.response_elements->>'$.includeGlobalServiceEvents', u.request_parameters->>'$.includeGlobalServiceEvents') as new_global,
        c.global_events as was_global,
        u.request_parameters->>'$.isOrganizationTrail' is not null as sent_organization,
        coalesce(u.response_elements->>'$.isOrganizationTrail', u.request_parameters->>'$.isOrganizationTrail') as new_organization,
        c.organization_trail as was_organization,
        u.request_parameters->>'$.enableLogFileValidation' is not null as sent_validation,
        coalesce(u.response_elements->>'$.logFileValidationEnabled', u.request_parameters->>'$.enableLogFileValidation') as new_validation,
        c.log_validation as was_validation,
        coalesce(u.request_parameters->>'$.kmsKeyId', u.request_parameters->>'$.KmsKeyId') is not null as sent_kms,
        coalesce(u.response_elements->>'$.kmsKeyId', u.request_parameters->>'$.kmsKeyId', u.request_parameters->>'$.KmsKeyId', '') as new_kms,
        c.kms_key as was_kms,
        u.request_parameters->>'$.cloudWatchLogsLogGroupArn' is not null as sent_log_group,
        coalesce(u.response_elements->>'$.cloudWatchLogsLogGroupArn', u.request_parameters->>'$.cloudWatchLogsLogGroupArn', '') as new_log_group,
        c.log_group as was_log_group
    from updates as u
    left join earlier_configs as c
      on c.update_number = u.update_number
     and c.recency = 1
),
judged as (
    -- A sent setting changed when it differs from the one before; with nothing to
    -- compare, only a non-console caller's setting counts (the console sends all).
    -- A console save with a single-region or no-global-events value and nothing to
    -- compare is kept as low: those are not the console's defaults. Organization and
    -- validation off are (most trails), so they are not.
    select
        *,
        list_filter([
            case when sent_bucket and (case when prior_known then new_bucket is distinct from was_bucket else not from_console end)
                 then {'severity': 'high', 'change': concat('log files now go to bucket ', new_bucket,
                       case when prior_known then concat(' (was ', coalesce(was_bucket, 'none'), ')') else '' end)} end,
            case when sent_multi_region and new_multi_region = 'false'
                      and (case when prior_known then was_multi_region is distinct from 'false' else not from_console end)
                 then {'severity': 'high', 'change': 'now records its home region only (isMultiRegionTrail false)'}
                 when sent_multi_region and new_multi_region = 'false' and not prior_known and from_console
                 then {'severity': 'low', 'change': 'console sent isMultiRegionTrail false (earlier value not in the data)'} end,
            case when sent_global and new_global = 'false'
                      and (case when prior_known then was_global is distinct from 'false' else not from_console end)
                 then {'severity': 'high', 'change': 'no longer records global services such as IAM and STS (includeGlobalServiceEvents false)'}
                 when sent_global and new_global = 'false' and not prior_known and from_console
                 then {'severity': 'low', 'change': 'console sent includeGlobalServiceEvents false (earlier value not in the data)'} end,
            case when sent_organization and new_organization = 'false'
                      and (case when prior_known then was_organization is distinct from 'false' else not from_console end)
                 then {'severity': 'high', 'change': 'no longer an organization trail (member accounts not recorded)'} end,
            case when sent_validation and new_validation = 'false'
                      and (case when prior_known then was_validation is distinct from 'false' else not from_console end)
                 then {'severity': 'medium', 'change': 'log file integrity validation turned off'} end,
            case when sent_kms and (case when prior_known
                                         then new_kms <> coalesce(was_kms, '')
                                              and not (coalesce(was_kms, '') = '' and new_kms <> ''
                                                       and arn_account(new_kms)
                                                           in ('', recipient_account_id))
                                         else not from_console end)
                 then case when new_kms = ''
                           then {'severity': 'medium', 'change': 'KMS encryption of log files removed'}
                           when arn_account(new_kms) not in ('', recipient_account_id)
                           then {'severity': 'high', 'change': concat('log files now encrypted with a KMS key of another account: ', new_kms)}
                           else {'severity': 'medium', 'change': concat('KMS key changed to ', new_kms,
                                 case when prior_known then concat(' (was ', coalesce(was_kms, 'none'), ')') else '' end)} end end,
            -- Adding CloudWatch Logs delivery records more, not less: only a removal, or a
            -- move away from a log group the data shows, counts.
            case when sent_log_group and new_log_group = ''
                      and (case when prior_known then coalesce(was_log_group, '') <> '' else not from_console end)
                 then {'severity': 'medium', 'change': 'delivery to CloudWatch Logs removed'}
                 when sent_log_group and new_log_group <> '' and prior_known
                      and coalesce(was_log_group, '') not in ('', new_log_group)
                 then {'severity': 'low', 'change': concat('delivery to CloudWatch Logs moved to ', new_log_group,
                                                   ' (was ', was_log_group, ')')} end,
            case when sent_prefix and (case when prior_known then coalesce(new_prefix, '') <> coalesce(was_prefix, '') else not from_console end)
                 then {'severity': 'low', 'change': concat('log file prefix changed to ', coalesce(new_prefix, '(none)'))} end,
            case when error_code is not null and request_parameters is null
                 then {'severity': 'low', 'change': 'the settings asked for were not recorded'} end
        ], lambda item: item is not null) as changes
    from compared
)
select
    coalesce(request_parameters->>'$.name',
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    most_severe(list_transform(changes, lambda item: item.severity)) as severity,
    evasion_attempt(error_code) ||
    concat('trail ', coalesce(request_parameters->>'$.name',
           evasion_denied_target(error_message, response_elements), '(not recorded)'), ': ',
           array_to_string(list_transform(changes, lambda item: item.change), '; ')) as summary,
    {'changes': list_transform(changes, lambda item: item.change), 'from_console': from_console,
     'earlier_config_known': prior_known, 'earlier_config_event': prior_event_id,
     'request': request_parameters, 'user_agent': user_agent} as details
from judged as j
where len(changes) > 0
  and not exists (
      select 1 from evasion_trail_created as c
      where c.recipient_account_id = j.recipient_account_id and c.trail_name = j.trail_name
        and j.event_time >= c.event_time and j.event_time < c.event_time + interval 60 second)
