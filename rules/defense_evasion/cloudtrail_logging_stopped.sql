/*
id: cloudtrail_logging_stopped
title: CloudTrail logging stopped
severity: high
mitre: [T1562.008]
status: stable
description: >
  Detects StopLogging on a trail and StopEventDataStoreIngestion on a CloudTrail Lake event data
  store. While a trail is stopped no API call in the account is recorded, so attackers stop it
  before the actions they want to hide.
false_positives: >
  Planned maintenance or a trail being retired (usually followed by DeleteTrail or StartLogging
  from a known administrator).
triage:
  - 'Check whether logging was started again (StartLogging) and how long the gap lasted: `select event_time, event_name, actor from events where event_name in (''StartLogging'', ''StopLogging'') order by event_time`.'
  - Confirm with the trail's owner that the caller was allowed to stop it.
  - Review what the same actor did during and just before the gap; other trails, Config or GuardDuty may still show it.
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StopLogging.html
  - https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DeleteTrail.html
*/
select
    evasion_trail_target(request_parameters, error_message, response_elements) as resource,
    event_id,
    evasion_attempt(error_code) ||
    concat(event_name, ' on ', coalesce(evasion_trail_target(request_parameters, error_message, response_elements),
                                        '(not recorded)')) as summary,
    {'user_agent': user_agent, 'error_message': error_message} as details
from scoped_events
where event_source = 'cloudtrail.amazonaws.com'
  and event_name in ('StopLogging', 'StopEventDataStoreIngestion')
