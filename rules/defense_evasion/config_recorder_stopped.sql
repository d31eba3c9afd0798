/*
id: config_recorder_stopped
title: AWS Config recording stopped or delivery channel deleted
severity: high
mitre: [T1562.008]
status: stable
description: >
  Detects StopConfigurationRecorder, DeleteConfigurationRecorder and DeleteDeliveryChannel. AWS
  Config keeps the history of resource configurations and feeds Security Hub and Config rules;
  stopping it hides what an attacker creates or changes.
false_positives: >
  Cost reduction in sandbox accounts; recorder reconfiguration by the platform team.
triage:
  - Check that recording was started again (StartConfigurationRecorder) and how long it was off.
  - Confirm with the account owner; review the caller's changes to resources in that period.
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/config/latest/APIReference/API_StopConfigurationRecorder.html
*/
select
    coalesce(request_parameters->>'$.configurationRecorderName', request_parameters->>'$.deliveryChannelName',
             request_parameters->>'$.arn',
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    evasion_attempt(error_code) ||
    concat(event_name, coalesce(' ' || coalesce(request_parameters->>'$.configurationRecorderName',
           request_parameters->>'$.deliveryChannelName'), ''), ' in ', aws_region) as summary,
    {'request': request_parameters, 'user_agent': user_agent} as details
from scoped_events
where event_source = 'config.amazonaws.com'
  and event_name in ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel')
