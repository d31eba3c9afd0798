/*
id: role_trust_policy_changed
title: Role trust policy changed (within the account)
severity: medium
mitre: [T1098.003]
status: stable
description: >
  Detects UpdateAssumeRolePolicy calls whose new trust policy admits only principals in the role's
  own account or AWS services, or could not be read. Changing who may assume a role can give a
  principal the attacker controls the role's permissions. Changes that admit outsiders are
  reported by role_trust_granted_to_outside_principal; malformed-document failures by
  principals_enumerated_via_trust_policy.
false_positives: >
  Routine role maintenance and infrastructure as code.
triage:
  - Compare the new trust policy with the role's previous one (earlier UpdateAssumeRolePolicy or CreateRole).
  - Check whether the newly trusted principal is one the caller controls.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  - https://github.com/RhinoSecurityLabs/pacu
  - https://attack.mitre.org/techniques/T1098/003/
python: find_trust_changed
*/
-- Candidates: every trust policy update; find_trust_changed keeps those admitting no outsider.
select
    event_id,
    event_name,
    account_id,
    target_role,
    policy_document,
    omitted_note
from iam_trust_policy_writes
where event_name = 'UpdateAssumeRolePolicy'
