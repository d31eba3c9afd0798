/*
id: login_profile_set_for_another_user
title: Console password created or changed for another user
severity: high
mitre: [T1098.001]
status: stable
description: >
  Detects CreateLoginProfile and UpdateLoginProfile calls on an IAM user other than the caller.
  Setting someone else's console password lets the caller sign in as that user (a takeover of an
  existing user, or console access for a backdoor user). Denied attempts are included. With
  passwordResetRequired, or from a role session named like the target user, it is reported as
  medium.
false_positives: >
  Help-desk password resets (usually with passwordResetRequired); administrators enabling console
  access for new staff.
triage:
  - Ask the target user whether their password was reset for them.
  - Look for console sign-ins as the target user afterwards (`select * from events where event_name = 'ConsoleLogin' and user_name = 'NAME'`).
  - If unexpected, reset the password, sign the user out (revoke sessions) and check their MFA.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateLoginProfile.html
  - https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/
  - https://attack.mitre.org/techniques/T1098/001/
*/
select
    event_id,
    concat('user/', target_user) as resource,
    case
        when request_parameters->>'$.passwordResetRequired' = 'true' then 'medium'
        when lower(session_name) = lower(target_user) then 'medium'
    end as severity,
    concat(coalesce(actor, '?'),
           case when error_code is not null then ' tried to set'
                when event_name = 'CreateLoginProfile' then ' created'
                else ' changed' end,
           ' the console password of user ', target_user,
           case when request_parameters->>'$.passwordResetRequired' = 'true'
                then ' (reset required at next sign-in)' else '' end) as summary,
    {'target_user': target_user, 'caller_type': user_type,
     'password_reset_required': request_parameters->>'$.passwordResetRequired',
     'user_agent': user_agent} as details
from iam_events
where event_name in ('CreateLoginProfile', 'UpdateLoginProfile')
  and targets_other_user
