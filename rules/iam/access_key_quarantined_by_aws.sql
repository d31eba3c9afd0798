/*
id: access_key_quarantined_by_aws
title: AWS quarantined an exposed access key (or the quarantine was removed)
severity: high
mitre: [T1552.001, T1078.004]
status: stable
description: >
  Detects the AWSCompromisedKeyQuarantine policies (any version) being attached to or put on a
  user, and their removal. AWS applies them when it finds a user's access key exposed in public
  (for example in a public code repository): the key must be treated as stolen, and anyone may
  have used it before the quarantine. Removing the quarantine while the key is still active gives
  a key thief back its full rights.
false_positives: >
  The account owner removing the quarantine after deleting the exposed key.
triage:
  - Find the exposed key in the AWS support case and delete it (not only deactivate).
  - 'Review everything the key did before the quarantine: `select * from events where user_name = ''NAME'' order by event_time`.'
references:
  - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCompromisedKeyQuarantineV2.html
  - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCompromisedKeyQuarantineV3.html
  - https://attack.mitre.org/techniques/T1552/001/
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    event_id,
    coalesce('user/' || target_user, 'role/' || target_role, 'group/' || target_group,
             '(not recorded)') as resource,
    concat(coalesce(request_parameters->>'$.policyName',
                    regexp_extract(request_parameters->>'$.policyArn', '[^/]+$')),
           case when event_name like 'Detach%' or event_name like 'Delete%'
                then ' quarantine removed from ' else ' quarantine applied to ' end,
           coalesce(target_user, target_role, target_group, '(not recorded)')) as summary,
    {'policy': coalesce(request_parameters->>'$.policyArn', request_parameters->>'$.policyName'),
     'caller_type': user_type} as details
from iam_events
where event_name in ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy',
                     'DetachUserPolicy', 'DetachRolePolicy', 'DetachGroupPolicy',
                     'PutUserPolicy', 'DeleteUserPolicy')
  and (regexp_matches(coalesce(request_parameters->>'$.policyArn', ''),
                      '^arn:aws[a-z-]*:iam::aws:policy/AWSCompromisedKeyQuarantine')
       or regexp_matches(coalesce(request_parameters->>'$.policyName', ''),
                         '^(AWSExposedCredentialPolicy_DO_NOT_REMOVE|AWSCompromisedKeyQuarantine)'))
