/*
id: securityhub_findings_suppressed
title: Security Hub findings suppressed, resolved or archived by a person
severity: medium
mitre: [T1562.001]
status: stable
description: >
  Detects BatchUpdateFindings setting Workflow.Status to SUPPRESSED or RESOLVED by a person or
  script (not an AWS service), automation rules that suppress or resolve findings as they arrive
  (CreateAutomationRule, BatchUpdateAutomationRules), the older UpdateFindings API (medium when
  it archives), and insights deleted or changed (DeleteInsight, UpdateInsight, low). An attacker
  can close the findings their own activity raised.
false_positives: >
  Analysts closing triaged findings; automation rules for accepted risks.
triage:
  - List the findings suppressed (details) and check whether they concern the caller's own activity.
  - Confirm with the security team; set them back to NEW if unexpected.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html
  - https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_WorkflowUpdate.html
  - https://docs.aws.amazon.com/macie/latest/user/findings-suppression-rule-delete.html
*/
with calls as (
    select
        *,
        coalesce(request_parameters->>'$.Workflow.Status', request_parameters->>'$.RecordState') as new_status,
        list_distinct(coalesce(json_extract_string(request_parameters, '$.Actions[*].FindingFieldsUpdate.Workflow.Status'), [])
            || coalesce(json_extract_string(request_parameters,
                   '$.UpdateAutomationRulesRequestItems[*].Actions[*].FindingFieldsUpdate.Workflow.Status'), [])) as rule_statuses
    from scoped_events
    where event_source = 'securityhub.amazonaws.com'
      and event_name in ('BatchUpdateFindings', 'UpdateFindings', 'DeleteInsight', 'UpdateInsight',
                         'CreateAutomationRule', 'BatchUpdateAutomationRules')
)
select
    coalesce(request_parameters->>'$.InsightArn', request_parameters->>'$.RuleName',
             array_to_string(json_extract_string(request_parameters, '$.FindingIdentifiers[*].Id')[:3], ', '),
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    case when event_name in ('DeleteInsight', 'UpdateInsight') then 'low'
         when event_name = 'UpdateFindings' and coalesce(new_status, '') <> 'ARCHIVED' then 'low' end as severity,
    evasion_attempt(error_code) ||
    case when event_name = 'BatchUpdateFindings'
         then concat(coalesce(len(json_extract(request_parameters, '$.FindingIdentifiers[*]')), 0),
                     ' finding(s) set to ', new_status)
         when event_name in ('CreateAutomationRule', 'BatchUpdateAutomationRules')
         then concat('automation rule sets matching findings to ', array_to_string(rule_statuses, '/'))
         else concat(event_name, coalesce(' (' || new_status || ')', '')) end as summary,
    {'findings': json_extract_string(request_parameters, '$.FindingIdentifiers[*].Id'),
     'note': request_parameters->>'$.Note.Text', 'new_status': new_status,
     'rule_statuses': rule_statuses, 'user_agent': user_agent} as details
from calls
where (event_name = 'BatchUpdateFindings' and new_status in ('SUPPRESSED', 'RESOLVED')
       and user_type is distinct from 'AWSService' and invoked_by is null)
   or (event_name in ('CreateAutomationRule', 'BatchUpdateAutomationRules')
       and (list_contains(rule_statuses, 'SUPPRESSED') or list_contains(rule_statuses, 'RESOLVED')))
   or event_name in ('UpdateFindings', 'DeleteInsight', 'UpdateInsight')
