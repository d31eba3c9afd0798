/*
id: cloudwatch_logs_deleted
title: CloudWatch log groups, streams or subscriptions deleted, or retention shortened
severity: medium
mitre: [T1562.008, T1070]
status: stable
description: >
  Detects DeleteLogGroup and DeleteSubscriptionFilter (medium; a subscription forwards logs to a
  SIEM or archive), DeleteLogStream (low, one finding per caller and log group, since tools
  delete streams in bulk), and PutRetentionPolicy with retention shorter than
  short_retention_days (low). Log groups hold application, VPC, Lambda and CloudTrail logs;
  deleting them destroys evidence. Calls made by an AWS service (CloudFormation deleting a
  stack) are reported as low.
false_positives: >
  Stack or application teardown; retention lowered in development accounts; tools that clean up
  old log streams.
triage:
  - 'Check what the log group held (its name usually tells: /aws/lambda/..., CloudTrail/..., VPC flow logs).'
  - Confirm with the owner; check whether the logs also exist elsewhere (S3 export, SIEM).
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://attack.mitre.org/techniques/T1070/
  - https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html
  - https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html
*/
with calls as (
    select
        *,
        request_parameters->>'$.logGroupName' as log_group,
        user_type = 'AWSService' or invoked_by is not null as by_service
    from scoped_events
    where event_source = 'logs.amazonaws.com'
      and (event_name in ('DeleteLogGroup', 'DeleteLogStream', 'DeleteSubscriptionFilter')
           or (event_name = 'PutRetentionPolicy'
               and try_cast(request_parameters->>'$.retentionInDays' as double) < getvariable('short_retention_days')))
)
select
    coalesce(log_group || case when request_parameters->>'$.filterName' is not null
                               then ' filter ' || (request_parameters->>'$.filterName') else '' end,
             evasion_denied_target(error_message, response_elements)) as resource,
    source_ip,
    event_id,
    [event_id] as event_ids,
    case when event_name = 'PutRetentionPolicy' or by_service then 'low' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, ' ', coalesce(log_group, '(not recorded)'),
           case when event_name = 'PutRetentionPolicy'
                then ': retention ' || (request_parameters->>'$.retentionInDays') || ' day(s)' else '' end,
           case when invoked_by is not null then ' (via ' || invoked_by || ')' else '' end) as summary,
    {'log_streams': []::varchar[], 'filter': request_parameters->>'$.filterName',
     'retention_days': request_parameters->>'$.retentionInDays', 'invoked_by': invoked_by,
     'user_agent': user_agent} as details
from calls
where event_name <> 'DeleteLogStream'
union all
select
    coalesce(log_group, arg_min(evasion_denied_target(error_message, response_elements), (event_time, event_id))) as resource,
    string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
    arg_min(event_id, (event_time, event_id)) as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    'low' as severity,
    evasion_attempt(error_code) ||
    concat('DeleteLogStream: ', count(*), ' stream(s) of ', coalesce(log_group, '(not recorded)'),
           case when min(invoked_by) is not null then ' (via ' || min(invoked_by) || ')' else '' end) as summary,
    {'log_streams': list(distinct request_parameters->>'$.logStreamName' order by request_parameters->>'$.logStreamName')[:50], 'filter': null,
     'retention_days': null, 'invoked_by': min(invoked_by),
     'user_agent': min(user_agent)} as details
from calls
where event_name = 'DeleteLogStream'
group by recipient_account_id, aws_region, actor, log_group, error_code
