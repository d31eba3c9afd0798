/*
id: root_access_key_created
title: Access key created for the root user
severity: critical
mitre: [T1098.001, T1078.004]
status: stable
description: >
  Detects the root user creating an access key for itself. Root keys carry every permission in the
  account and no policy can limit them; AWS advises never to have any, so a new one is either a
  grave mistake or an attacker with root keeping access.
false_positives: >
  Almost none: a few legacy tools that still require root keys.
triage:
  - Ask the account owner; root sign-in or keys should be known to them.
  - 'Delete the key now if it is not needed, and review everything root did: `select * from events where user_type = ''Root'' order by event_time`.'
  - Rotate the root password and check its MFA device.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-user/
  - https://attack.mitre.org/techniques/T1098/001/
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    event_id,
    concat('root of ', recipient_account_id) as resource,
    concat('root ', case when error_code is null then 'created' else 'tried to create' end,
           ' an access key for itself from ', coalesce(source_ip, '?')) as summary,
    {'access_key_id': response_elements->>'$.accessKey.accessKeyId', 'invoked_by': invoked_by,
     'user_agent': user_agent} as details
from iam_events
where event_name = 'CreateAccessKey'
  and user_type = 'Root'
  and target_user is null
