/*
id: root_password_changed_or_recovered
title: Root password changed or recovery requested
severity: high
mitre: [T1098]
status: stable
description: >
  Detects root password changes (PasswordUpdated) and password recovery (PasswordRecoveryRequested
  / PasswordRecoveryCompleted). Whoever controls the root password and e-mail controls the
  account; attackers reset it to lock owners out.
false_positives: >
  The account owner changing or recovering the root password.
triage:
  - Confirm with the account owner; check the root e-mail address has not changed (EmailUpdated).
  - Review root activity after the change.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1098/
*/
select
    concat('root of ', recipient_account_id) as resource,
    event_id,
    case when response_elements->>'$.PasswordUpdated' = 'Failure' then 'Failure' else error_code end as error_code,
    concat(event_name, ' for root of ', coalesce(recipient_account_id, '?'), ' from ', coalesce(source_ip, '?')) as summary,
    {'user_type': user_type, 'user_agent': user_agent, 'response': response_elements} as details
from scoped_events
where event_source = 'signin.amazonaws.com'
  and event_name in ('PasswordUpdated', 'PasswordRecoveryRequested', 'PasswordRecoveryCompleted')
  and (user_type = 'Root' or event_name like 'PasswordRecovery%')
