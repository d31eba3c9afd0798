/*
id: guardduty_findings_suppressed
title: GuardDuty findings archived or suppression rule created
severity: medium
mitre: [T1562.001]
status: stable
description: >
  Detects GuardDuty filters created or updated with action ARCHIVE (suppression rules: matching
  findings are archived as they arrive, so nobody sees them) and ArchiveFindings calls by people
  (low). An attacker can hide the findings their own activity raises.
false_positives: >
  Suppression rules for known scanners or noisy findings, set by the security team; analysts
  archiving findings they have triaged.
triage:
  - 'Read the filter''s criteria (details): which findings, resources or addresses does it hide?'
  - Confirm with the security team; delete the rule if unexpected and look at the findings it archived.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_upload-lists.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/create-suppression-rules-guardduty.html
*/
select
    coalesce(request_parameters->>'$.filterName', request_parameters->>'$.name',
             request_parameters->>'$.detectorId',
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    case when event_name = 'ArchiveFindings' then 'low' end as severity,
    evasion_attempt(error_code) ||
    case when event_name = 'ArchiveFindings'
         then concat(coalesce(len(json_extract(request_parameters, '$.findingIds[*]')), 0), ' finding(s) archived')
         else concat('filter ', coalesce(request_parameters->>'$.filterName', request_parameters->>'$.name', '?'),
                     ' archives matching findings automatically') end as summary,
    {'criteria': request_parameters->'$.findingCriteria', 'finding_ids': json_extract_string(request_parameters, '$.findingIds[*]'),
     'user_agent': user_agent} as details
from scoped_events
where event_source = 'guardduty.amazonaws.com'
  and ((event_name in ('CreateFilter', 'UpdateFilter') and request_parameters->>'$.action' = 'ARCHIVE')
       or (event_name = 'ArchiveFindings' and user_type is distinct from 'AWSService' and invoked_by is null))
