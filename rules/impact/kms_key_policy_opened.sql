/*
id: kms_key_policy_opened
title: KMS key policy grants another account or everyone
severity: high
mitre: [T1486, T1098]
status: stable
description: >
  Detects PutKeyPolicy and CreateKey calls whose key policy has an Allow statement for
  everyone (*) or for a principal of another account. Whoever the policy admits can use the key
  to decrypt the data encrypted under it, or - with kms:PutKeyPolicy or kms:ScheduleKeyDeletion -
  take the key, and the data, from its owner. A statement narrowed by a Condition is reported
  at medium with the condition left for the analyst to judge. The policy is read with the shared
  policy reader (rules/aws_policy.py).
false_positives: >
  Keys shared on purpose with a central logging, backup or security account of the
  organisation; keys used by partners for cross-account encryption.
triage:
  - Check the accounts in details.outside against the organisation's accounts.
  - If unknown, put back the previous policy and check the key's use since (Decrypt, CreateGrant, ReEncrypt calls from that account).
  - Review the principal's other KMS and data calls.
references:
  - https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
  - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
  - https://attack.mitre.org/techniques/T1486/
python: find_key_policy_opened
*/
select
    event_id,
    'policy to read' as summary,
    coalesce(request_parameters->>'$.keyId', response_elements->>'$.keyMetadata.keyId', '(new key)') as resource,
    {'account': recipient_account_id, 'error_code': error_code,
     'policy': request_parameters->>'$.policy'} as details
from impact_events
where event_source = 'kms.amazonaws.com'
  and event_name in ('PutKeyPolicy', 'CreateKey')
  and request_parameters->>'$.policy' is not null
order by event_time, event_id
