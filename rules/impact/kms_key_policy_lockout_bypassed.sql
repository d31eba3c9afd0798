/*
id: kms_key_policy_lockout_bypassed
title: KMS key policy set with the lockout safety check bypassed
severity: high
mitre: [T1486, T1485]
status: stable
description: >
  Detects PutKeyPolicy and CreateKey calls with bypassPolicyLockoutSafetyCheck true. The check
  stops a caller from setting a key policy that no principal of the account can change
  afterwards; bypassing it is how a key is taken away from its owner (the data stays encrypted
  under a key the account can no longer manage or use), and AWS recommends it only in rare
  cases. Key policies that hand the key to another account are reported by
  kms_key_policy_opened.
false_positives: >
  Automation that always sets the flag (some infrastructure-as-code modules do); a security
  team deliberately restricting key administration to one role.
triage:
  - Read the new policy (details.policy) and check that a principal of the account can still administer the key.
  - If the account is locked out, contact AWS Support with the key id.
  - Review the principal's other KMS and data calls (re-encryption, deletions).
references:
  - https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
  - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
  - https://attack.mitre.org/techniques/T1486/
*/
select
    event_id,
    coalesce(request_parameters->>'$.keyId', response_elements->>'$.keyMetadata.keyId', '(new key)') as resource,
    concat(attempt, event_name, ' on KMS key ',
           coalesce(request_parameters->>'$.keyId', response_elements->>'$.keyMetadata.keyId', '(new key)'),
           ' with the policy lockout safety check bypassed') as summary,
    {'policy': request_parameters->>'$.policy', 'user_agent': user_agent} as details
from impact_events
where event_source = 'kms.amazonaws.com'
  and event_name in ('PutKeyPolicy', 'CreateKey')
  and lower(coalesce(request_parameters->>'$.bypassPolicyLockoutSafetyCheck', '')) = 'true'
