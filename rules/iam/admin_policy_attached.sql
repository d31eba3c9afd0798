/*
id: admin_policy_attached
title: Admin-equivalent managed policy attached to a user, role or group
severity: high
mitre: [T1098.003]
status: stable
description: >
  Detects AttachUserPolicy, AttachRolePolicy and AttachGroupPolicy with AdministratorAccess,
  IAMFullAccess or PowerUserAccess (any AWS partition), or with a customer managed policy that
  this case shows was created granting every action on every resource. This hands the target full
  control of the account. Denied attaches whose policy CloudTrail did not record are reported as
  medium attempts.
false_positives: >
  Administrators granting admin rights on purpose (break-glass roles, new admins).
triage:
  - Confirm with the caller's owner that the target should be an administrator.
  - Review what the target did after the attach (analyze_actor.py).
  - If unexpected, detach the policy and investigate how the caller got permission to attach it.
references:
  - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
  - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/IAMFullAccess.html
  - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/PowerUserAccess.html
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html
  - https://attack.mitre.org/techniques/T1098/003/
python: find_admin_policy_attached
*/
-- Candidates: every managed-policy attach; find_admin_policy_attached keeps those whose policy
-- is admin-equivalent (AWS managed, or a customer policy this case shows granting full access).
select
    event_id,
    error_code,
    target_user,
    target_role,
    target_group,
    request_parameters->>'$.policyArn' as policy_arn
from iam_events
where event_name in ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
