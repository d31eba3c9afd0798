/*
id: access_key_created_for_another_user
title: Access key created for another user (backdoor keys)
severity: high
mitre: [T1098.001]
status: stable
description: >
  Detects CreateAccessKey calls that make a key for an IAM user other than the caller. Whoever
  holds the new key acts as that user, so creating keys for someone else is how attackers plant
  credentials that survive the loss of their own. Denied attempts are included.
false_positives: >
  Administrators or automation (working through a role) issuing keys to service users. A role
  session whose name equals the target user is reported as medium: it may be that person working
  through a role.
triage:
  - Ask the target user whether they expected a new key.
  - 'Look for the new key (details access_key_id) being used: `select event_time, event_name, source_ip from events where access_key_id = ''AKIA...''`.'
  - If unexpected, deactivate and delete the key, and review the caller's other actions.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-user/
  - https://attack.mitre.org/techniques/T1098/001/
*/
select
    event_id,
    concat('user/', target_user) as resource,
    case when lower(session_name) = lower(target_user) then 'medium' end as severity,
    concat(coalesce(actor, '?'), case when error_code is null then ' created' else ' tried to create' end,
           ' an access key for user ', target_user) as summary,
    {'target_user': target_user, 'caller_type': user_type,
     'access_key_id': response_elements->>'$.accessKey.accessKeyId', 'user_agent': user_agent} as details
from iam_events
where event_name = 'CreateAccessKey'
  and targets_other_user
