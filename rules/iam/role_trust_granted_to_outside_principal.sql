/*
id: role_trust_granted_to_outside_principal
title: Role trust policy admits another account or anyone
severity: high
mitre: [T1098.003]
status: stable
description: >
  Detects UpdateAssumeRolePolicy and CreateRole whose trust policy lets a principal outside the
  role's account assume the role: another account id, "*" or NotPrincipal (critical without a
  Condition), or a public web identity provider without a Condition. Trusting an attacker's
  account is a backdoor that needs no credentials in the victim account at all.
false_positives: >
  Cross-account roles for your own other accounts, vendors and auditors (compare the account ids
  with your organisation's).
triage:
  - Check whether the account ids in details belong to your organisation or a known vendor.
  - Look for AssumeRole calls into this role from those accounts (`select * from events where event_name = 'AssumeRole' and request_parameters->>'$.roleArn' like '%ROLE'`).
  - If unexpected, restore the trust policy and review the role's permissions.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  - https://github.com/RhinoSecurityLabs/pacu
  - https://attack.mitre.org/techniques/T1098/003/
python: find_trust_opened
*/
-- Candidates: every trust policy written; find_trust_opened reads each document.
select
    event_id,
    event_name,
    account_id,
    target_role,
    policy_document,
    omitted_note
from iam_trust_policy_writes
