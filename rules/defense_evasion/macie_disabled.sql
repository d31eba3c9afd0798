/*
id: macie_disabled
title: Macie disabled, paused or its findings muted
severity: high
mitre: [T1562.001]
status: stable
description: >
  Detects DisableMacie and Macie sessions paused (high); the organization's Macie administrator
  removed, members dropped, findings filters that archive automatically (medium); other session
  changes, classification jobs cancelled or paused, findings archived (low). Macie finds
  sensitive data in S3 and raises findings when buckets become public; switching it off or
  muting it hides data exposure.
false_positives: >
  Cost reduction; filters for accepted findings set by the security team.
triage:
  - Check the Macie status and findings filters in the account.
  - Confirm with the security team and restore if unexpected.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html
  - https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_WorkflowUpdate.html
  - https://docs.aws.amazon.com/macie/latest/user/findings-suppression-rule-delete.html
*/
select
    coalesce(request_parameters->>'$.name', request_parameters->>'$.id', request_parameters->>'$.jobId',
             request_parameters->>'$.adminAccountId', recipient_account_id) as resource,
    event_id,
    case when event_name = 'DisableMacie' or request_parameters->>'$.status' = 'PAUSED' then null
         when event_name in ('DisableOrganizationAdminAccount', 'DisassociateFromAdministratorAccount',
                             'DisassociateFromMasterAccount', 'DisassociateMember', 'DeleteMember',
                             'CreateFindingsFilter', 'UpdateFindingsFilter') then 'medium'
         else 'low' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, ' in ', aws_region,
           case when request_parameters->>'$.status' is not null then ': status ' || (request_parameters->>'$.status')
                when request_parameters->>'$.jobStatus' is not null then ': job ' || (request_parameters->>'$.jobStatus')
                when request_parameters->>'$.action' is not null then ': filter action ' || (request_parameters->>'$.action')
                when request_parameters->>'$.findingPublishingFrequency' is not null
                then ': findings published every ' || (request_parameters->>'$.findingPublishingFrequency')
                else '' end) as summary,
    {'request': request_parameters, 'user_agent': user_agent} as details
from scoped_events
where event_source in ('macie2.amazonaws.com', 'macie.amazonaws.com')
  and (event_name in ('DisableMacie', 'UpdateMacieSession', 'UpdateMemberSession', 'DisableOrganizationAdminAccount',
                      'DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount',
                      'DisassociateMember', 'DeleteMember', 'ArchiveFindings')
       or (event_name in ('CreateFindingsFilter', 'UpdateFindingsFilter')
           and request_parameters->>'$.action' = 'ARCHIVE')
       or (event_name = 'UpdateClassificationJob'
           and request_parameters->>'$.jobStatus' in ('CANCELLED', 'USER_PAUSED')))
