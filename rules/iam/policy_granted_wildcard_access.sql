/*
id: policy_granted_wildcard_access
title: Inline policy or policy version allows every action
severity: high
mitre: [T1098.003]
status: stable
description: >
  Detects PutUserPolicy, PutRolePolicy, PutGroupPolicy, CreatePolicyVersion and CreatePolicy whose
  document has an Allow statement with Action "*", "*:*" or "iam:*", or NotAction. On every
  resource this is administrator access written directly into a policy, which attackers use
  because it does not show as an attached AdministratorAccess. One finding per call, all such
  statements listed. A document CloudTrail truncated or did not record is reported as low,
  unreadable.
false_positives: >
  Administrators writing broad policies for break-glass or sandbox roles; a wildcard limited to
  specific resources (reported as medium).
triage:
  - Read the document in details and decide whether the grant is intended.
  - For CreatePolicyVersion, check whether it became the default version (details set_as_default, or a later SetDefaultPolicyVersion).
  - If unexpected, delete the inline policy or revert to the previous version.
references:
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html
  - https://attack.mitre.org/techniques/T1098/003/
python: find_wildcard_policies
*/
-- Candidates: every policy document written; find_wildcard_policies reads each document.
-- CloudTrail replaces requestParameters that are too large with {"omitted": true, "reason": ...}.
select
    event_id,
    event_name,
    target_user,
    target_role,
    target_group,
    coalesce(request_parameters->>'$.policyArn', request_parameters->>'$.policyName') as policy,
    request_parameters->>'$.policyDocument' as policy_document,
    coalesce(request_parameters->>'$.setAsDefault' = 'true', false) as set_as_default,
    case when request_parameters->>'$.omitted' = 'true'
         then concat('CloudTrail omitted requestParameters (', coalesce(request_parameters->>'$.reason', 'no reason given'),
                     ', original size ', coalesce(request_parameters->>'$.originalSize', '?'), ' bytes)')
    end as omitted_note
from iam_events
where event_name in ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy', 'CreatePolicyVersion', 'CreatePolicy')
