/*
id: config_rule_deleted
title: AWS Config rules or conformance packs deleted
severity: medium
mitre: [T1562.001]
status: stable
description: >
  Detects DeleteConfigRule, DeleteOrganizationConfigRule, DeleteConformancePack and
  DeleteOrganizationConformancePack. Config rules flag non-compliant resources (public buckets,
  open security groups); deleting them removes those alerts.
false_positives: >
  Rules retired or replaced by the compliance team; conformance packs redeployed.
triage:
  - Check which rule was deleted and what it checked.
  - Confirm with the compliance team; recreate the rule and re-evaluate resources.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/config/latest/APIReference/API_StopConfigurationRecorder.html
*/
select
    coalesce(request_parameters->>'$.configRuleName', request_parameters->>'$.organizationConfigRuleName',
             request_parameters->>'$.conformancePackName',
             request_parameters->>'$.organizationConformancePackName',
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    case when invoked_by is not null then 'low' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, ' ', coalesce(request_parameters->>'$.configRuleName',
           request_parameters->>'$.organizationConfigRuleName', request_parameters->>'$.conformancePackName',
           request_parameters->>'$.organizationConformancePackName', '(not recorded)')) as summary,
    {'invoked_by': invoked_by, 'user_agent': user_agent} as details
from scoped_events
where event_source = 'config.amazonaws.com'
  and event_name in ('DeleteConfigRule', 'DeleteOrganizationConfigRule', 'DeleteConformancePack',
                     'DeleteOrganizationConformancePack')
