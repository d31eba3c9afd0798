/*
id: guardduty_members_disassociated
title: GuardDuty member accounts removed from central monitoring
severity: medium
mitre: [T1562.001]
status: stable
description: >
  Detects a member account leaving its GuardDuty administrator
  (DisassociateFromAdministratorAccount, DisassociateFromMasterAccount), an administrator
  dropping or no longer monitoring members (DisassociateMembers, DeleteMembers,
  StopMonitoringMembers), and invitations deleted (DeleteInvitations, low). The central security
  team stops seeing that account's findings.
false_positives: >
  Accounts moved between organizations or closed.
triage:
  - List the accounts affected (details) and confirm each change with the security team.
  - Re-associate the accounts if unexpected; check what happened in them since.
references:
  - https://attack.mitre.org/techniques/T1562/001/
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_upload-lists.html
  - https://docs.aws.amazon.com/guardduty/latest/ug/create-suppression-rules-guardduty.html
*/
select
    coalesce(array_to_string(json_extract_string(request_parameters, '$.accountIds[*]'), ', '),
             request_parameters->>'$.detectorId', recipient_account_id) as resource,
    event_id,
    case when event_name = 'DeleteInvitations' then 'low' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, case when request_parameters->>'$.accountIds' is not null
           then ' for ' || array_to_string(json_extract_string(request_parameters, '$.accountIds[*]'), ', ')
           else ' in ' || coalesce(recipient_account_id, '?') end) as summary,
    {'account_ids': json_extract_string(request_parameters, '$.accountIds[*]'),
     'detector_id': request_parameters->>'$.detectorId', 'user_agent': user_agent} as details
from scoped_events
where event_source = 'guardduty.amazonaws.com'
  and event_name in ('DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount',
                     'DisassociateMembers', 'DeleteMembers', 'StopMonitoringMembers', 'DeleteInvitations')
