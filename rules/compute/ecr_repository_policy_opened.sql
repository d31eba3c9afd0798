/*
id: ecr_repository_policy_opened
title: ECR repository policy opened to everyone or another account
severity: high
mitre: [T1525, T1098]
status: stable
description: >
  Detects SetRepositoryPolicy calls whose policy has an Allow statement for everyone (*) or a
  principal of another account. With push actions (ecr:PutImage, ecr:UploadLayerPart) that
  principal can replace the images the account deploys; with pull actions it can copy them and
  the secrets baked into them. A statement narrowed by a Condition is medium. The policy is
  read with the shared policy reader (rules/aws_policy.py).
false_positives: >
  Public images published on purpose; repositories shared with the organisation's other
  accounts.
triage:
  - Check who the policy admits and which actions (details) against the repository's purpose.
  - Put back the previous policy if unexpected (aws ecr get-repository-policy, set-repository-policy).
  - Check for images pushed or pulled from outside the account since the change.
references:
  - https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SetRepositoryPolicy.html
  - https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html
  - https://attack.mitre.org/techniques/T1525/
python: find_repository_policy_opened
*/
select
    event_id,
    'policy to read' as summary,
    coalesce(request_parameters->>'$.repositoryName', '(not recorded)') as resource,
    {'account': recipient_account_id, 'error_code': error_code,
     'policy': request_parameters->>'$.policyText'} as details
from compute_events
where event_source = 'ecr.amazonaws.com'
  and event_name = 'SetRepositoryPolicy'
order by event_time, event_id
