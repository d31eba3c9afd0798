/*
id: cloudwatch_alarms_deleted
title: CloudWatch alarms deleted or their actions disabled
severity: medium
mitre: [T1562.001]
status: stable
description: >
  Detects DeleteAlarms and DisableAlarmActions. Alarms are how many teams are told about root
  sign-ins, trail changes or unusual spend; without them the alert never fires.
false_positives: >
  Alarms cleaned up with the resources they watched; actions paused during maintenance.
triage:
  - List the alarms (details) and what they watched.
  - Confirm with the owner; recreate or re-enable them if unexpected.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html
  - https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html
*/
select
    coalesce(array_to_string(json_extract_string(request_parameters, '$.alarmNames[*]'), ', '),
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    case when user_type = 'AWSService' or invoked_by is not null then 'low' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, coalesce(' for ' || len(json_extract(request_parameters, '$.alarmNames[*]')) || ' alarm(s): '
           || array_to_string(json_extract_string(request_parameters, '$.alarmNames[*]')[:5], ', '),
           ' (alarm names not recorded)')) as summary,
    {'alarm_names': json_extract_string(request_parameters, '$.alarmNames[*]'), 'invoked_by': invoked_by,
     'user_agent': user_agent} as details
from scoped_events
where event_source = 'monitoring.amazonaws.com'
  and event_name in ('DeleteAlarms', 'DisableAlarmActions')
