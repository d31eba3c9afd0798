/*
id: cloudtrail_trail_deleted
title: CloudTrail trail or event data store deleted
severity: high
mitre: [T1562.008]
status: stable
description: >
  Detects DeleteTrail and DeleteEventDataStore. Deleting the trail ends the account's record of
  API calls from that moment on; attackers delete it to act unrecorded.
false_positives: >
  Trails replaced during a logging redesign, or removed when a test account is torn down (often
  by CloudFormation or Terraform).
triage:
  - Check that another trail (an organization trail, another region) still records the account.
  - Ask the trail's owner whether the deletion was planned; check the caller's other calls around that time.
  - Recreate the trail and look for activity during the gap in other sources.
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
    {'user_agent': user_agent, 'invoked_by': invoked_by, 'error_message': error_message} as details
from scoped_events
where event_source = 'cloudtrail.amazonaws.com'
  and event_name in ('DeleteTrail', 'DeleteEventDataStore')
