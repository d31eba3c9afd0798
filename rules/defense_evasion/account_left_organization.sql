/*
id: account_left_organization
title: Account left or was removed from the AWS organization
severity: high
mitre: [T1666, T1562.008]
status: stable
description: >
  Detects LeaveOrganization (high) and RemoveAccountFromOrganization (medium). An account
  outside the organization escapes its service control policies, its organization trail and
  central security services, so an attacker in control of it is no longer restricted or watched.
false_positives: >
  Planned account transfers between organizations.
triage:
  - Confirm with the organization's administrators whether the move was planned.
  - Check the account's membership (`aws organizations describe-account`) and, if it left, whether its own trail and security services still run.
references:
  - https://attack.mitre.org/techniques/T1666/
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/organizations/latest/APIReference/API_LeaveOrganization.html
*/
select
    coalesce(request_parameters->>'$.accountId', recipient_account_id) as resource,
    event_id,
    case when event_name = 'RemoveAccountFromOrganization' then 'medium' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, ' for account ', coalesce(request_parameters->>'$.accountId', recipient_account_id, '?')) as summary,
    {'user_agent': user_agent, 'error_message': error_message} as details
from scoped_events
where event_source = 'organizations.amazonaws.com'
  and event_name in ('LeaveOrganization', 'RemoveAccountFromOrganization')
