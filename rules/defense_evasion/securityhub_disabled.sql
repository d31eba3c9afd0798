/*
id: securityhub_disabled
title: Security Hub disabled, standards or controls turned off, or members removed
severity: high
mitre: [T1562.001]
status: stable
description: >
  Detects DisableSecurityHub (high); BatchDisableStandards, DisableImportFindingsForProduct and
  an account leaving or dropping members (medium); controls disabled with UpdateStandardsControl
  or BatchUpdateStandardsControlAssociations (low). Security Hub collects the findings of
  GuardDuty, Inspector, Macie and Config; turning parts of it off hides them from the security
  team.
false_positives: >
  Accounts being closed; standards or controls disabled by the security team because they do not
  apply.
triage:
  - Check which standards, products or controls were turned off (summary).
  - Confirm with the security team and re-enable if unexpected.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html
  - https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_WorkflowUpdate.html
  - https://docs.aws.amazon.com/macie/latest/user/findings-suppression-rule-delete.html
*/
select
    coalesce(array_to_string(json_extract_string(request_parameters, '$.StandardsSubscriptionArns[*]'), ', '),
             request_parameters->>'$.ProductSubscriptionArn', request_parameters->>'$.StandardsControlArn',
             array_to_string(json_extract_string(request_parameters, '$.AccountIds[*]'), ', '),
             recipient_account_id) as resource,
    event_id,
    case when event_name = 'DisableSecurityHub' then null
         when event_name in ('UpdateStandardsControl', 'BatchUpdateStandardsControlAssociations') then 'low'
         else 'medium' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, ' in ', aws_region,
           case when request_parameters->>'$.ControlStatus' is not null
                then ': ' || (request_parameters->>'$.StandardsControlArn') || ' ' || (request_parameters->>'$.ControlStatus')
                when request_parameters->>'$.AccountIds' is not null
                then ': ' || array_to_string(json_extract_string(request_parameters, '$.AccountIds[*]'), ', ')
                else '' end) as summary,
    {'request': request_parameters, 'user_agent': user_agent} as details
from scoped_events
where event_source = 'securityhub.amazonaws.com'
  and (event_name in ('DisableSecurityHub', 'BatchDisableStandards', 'DisableImportFindingsForProduct',
                      'DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount',
                      'DisassociateMembers', 'DeleteMembers')
       or (event_name = 'UpdateStandardsControl' and request_parameters->>'$.ControlStatus' = 'DISABLED')
       or (event_name = 'BatchUpdateStandardsControlAssociations'
           and list_contains(json_extract_string(request_parameters,
               '$.StandardsControlAssociationUpdates[*].AssociationStatus'), 'DISABLED')))
