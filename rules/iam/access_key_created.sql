/*
id: access_key_created
title: Access key created by an IAM user for itself
severity: low
mitre: [T1098.001]
status: stable
description: >
  Detects CreateAccessKey calls that make a key for the calling IAM user itself (keys for other
  users and root's own keys have their own detections). Someone holding a user's stolen key often
  makes a second key so that revoking the first does not lock them out.
false_positives: >
  Users rotating their own keys.
triage:
  - Check whether the user also deleted or deactivated an old key around this time (rotation).
  - Compare the source IP and user agent with the user's usual ones.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-user/
  - https://attack.mitre.org/techniques/T1098/001/
*/
select
    event_id,
    concat('user/', coalesce(target_user, caller_user, response_elements->>'$.accessKey.userName', '(not recorded)')) as resource,
    concat(coalesce(actor, '?'), case when error_code is null then ' created' else ' tried to create' end,
           ' an access key for itself') as summary,
    {'access_key_id': response_elements->>'$.accessKey.accessKeyId', 'caller_key': access_key_id,
     'user_agent': user_agent} as details
from iam_events
where event_name = 'CreateAccessKey'
  and not targets_other_user
  and coalesce(user_type, '') <> 'Root'
