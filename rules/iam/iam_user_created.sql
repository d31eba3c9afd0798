/*
id: iam_user_created
title: IAM user created (or attempted)
severity: medium
mitre: [T1136.003]
status: stable
description: >
  Detects CreateUser calls, successful or denied. A new IAM user with its own long-term
  credentials is the most common way attackers keep access to an account after the credentials
  they came in with are revoked; a denied attempt shows someone tried.
false_positives: >
  Administrators provisioning users by hand; infrastructure as code (calls invoked by
  cloudformation.amazonaws.com are reported as low).
triage:
  - Ask the owner of the calling identity whether the user was expected.
  - 'Check what was done to the new user next: `select event_time, event_name, request_parameters from iam_events where lower(target_user) = lower(''NAME'') order by event_time`.'
  - If unexpected, delete the user's keys and login profile, then the user.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html
  - https://attack.mitre.org/techniques/T1136/003/
*/
select
    event_id,
    concat('user/', coalesce(target_user, '(not recorded)')) as resource,
    case when invoked_by = 'cloudformation.amazonaws.com' and error_code is null then 'low' end as severity,
    concat(coalesce(actor, '?'), case when error_code is null then ' created' else ' tried to create' end,
           ' IAM user ', coalesce(target_user, '(not recorded)')) as summary,
    {'user_type': user_type, 'user_agent': user_agent, 'invoked_by': invoked_by,
     'path': request_parameters->>'$.path'} as details
from iam_events
where event_name = 'CreateUser'
