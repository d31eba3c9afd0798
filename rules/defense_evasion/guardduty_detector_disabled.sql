/*
id: guardduty_detector_disabled
title: GuardDuty detector deleted, suspended or protections turned off
severity: high
mitre: [T1562.001]
status: stable
description: >
  Detects DeleteDetector and UpdateDetector with enable false (high), and UpdateDetector calls
  that turn off protection plans or data sources such as S3, EKS or runtime monitoring (low).
  Without the detector GuardDuty raises no findings for the region.
false_positives: >
  Accounts or regions being decommissioned; cost reduction by turning off protection plans.
triage:
  - 'Check the detector''s state in each region: `aws guardduty list-detectors` and `get-detector`.'
  - Confirm with the security team; re-enable if unexpected.
  - Review the caller's activity in that region after the change.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_upload-lists.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/create-suppression-rules-guardduty.html
*/
with calls as (
    select
        *,
        list_transform(list_filter(json_extract(request_parameters, '$.features[*]'),
                                   lambda f: f->>'$.status' = 'DISABLED'),
                       lambda f: f->>'$.name')
            || list_filter([case when request_parameters->>'$.dataSources.s3Logs.enable' = 'false' then 'S3_LOGS' end,
                            case when request_parameters->>'$.dataSources.kubernetes.auditLogs.enable' = 'false'
                                 then 'KUBERNETES_AUDIT_LOGS' end],
                           lambda n: n is not null) as features_off
    from scoped_events
    where event_source = 'guardduty.amazonaws.com'
      and event_name in ('DeleteDetector', 'UpdateDetector')
)
select
    coalesce(request_parameters->>'$.detectorId',
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    case when event_name = 'UpdateDetector' and coalesce(request_parameters->>'$.enable', '') <> 'false'
         then 'low' end as severity,
    evasion_attempt(error_code) ||
    concat('detector ', coalesce(request_parameters->>'$.detectorId', '(not recorded)'), ' in ', aws_region, ': ',
           case when event_name = 'DeleteDetector' then 'deleted'
                when request_parameters->>'$.enable' = 'false' then 'suspended (enable false)'
                else 'turned off ' || array_to_string(features_off, ', ') end) as summary,
    {'features_off': features_off, 'request': request_parameters, 'user_agent': user_agent} as details
from calls
where event_name = 'DeleteDetector'
   or request_parameters->>'$.enable' = 'false'
   or len(features_off) > 0
