/*
id: guardduty_ip_list_changed
title: GuardDuty trusted IP list or threat list changed
severity: high
mitre: [T1562.001]
status: stable
description: >
  Detects CreateIPSet and UpdateIPSet (trusted IP lists: GuardDuty raises no findings for
  traffic from these addresses, so adding an attacker's address mutes detection; high when the
  list is activated, medium otherwise), and CreateThreatIntelSet, UpdateThreatIntelSet and
  DeleteThreatIntelSet (threat lists, low: replacing or emptying one removes detections).
false_positives: >
  Security teams maintaining their scanner or office address lists.
triage:
  - Read the list at the S3 location in the request and check every address in it.
  - Confirm the change with the security team; deactivate the list if unexpected.
  - Check activity from the listed addresses, which GuardDuty would no longer report.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_upload-lists.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/create-suppression-rules-guardduty.html
*/
select
    coalesce(request_parameters->>'$.ipSetId', request_parameters->>'$.threatIntelSetId',
             response_elements->>'$.ipSetId', response_elements->>'$.threatIntelSetId',
             request_parameters->>'$.name',
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    case when event_name like '%ThreatIntelSet' then 'low'
         when coalesce(request_parameters->>'$.activate', '') <> 'true' then 'medium' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, ' ', coalesce(request_parameters->>'$.name', request_parameters->>'$.ipSetId',
           request_parameters->>'$.threatIntelSetId', ''),
           case when request_parameters->>'$.location' is not null then ' from ' || (request_parameters->>'$.location') else '' end,
           case when request_parameters->>'$.activate' = 'true' then ' (activated)' else '' end) as summary,
    {'location': request_parameters->>'$.location', 'activate': request_parameters->>'$.activate',
     'detector_id': request_parameters->>'$.detectorId', 'user_agent': user_agent} as details
from scoped_events
where event_source = 'guardduty.amazonaws.com'
  and event_name in ('CreateIPSet', 'UpdateIPSet', 'CreateThreatIntelSet', 'UpdateThreatIntelSet',
                     'DeleteThreatIntelSet')
