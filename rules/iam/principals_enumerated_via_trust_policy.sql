/*
id: principals_enumerated_via_trust_policy
title: Principal enumeration through failed trust policy updates
severity: medium
mitre: [T1087.004]
status: stable
description: >
  Detects a caller with at least iam_trust_probes UpdateAssumeRolePolicy calls rejected as
  MalformedPolicyDocument. Tools such as Pacu's iam__enum_roles write trust policies naming
  guessed users and roles of another account; IAM rejects the ones that do not exist, which tells
  the caller which do.
false_positives: >
  A deployment tool retrying a broken trust policy.
triage:
  - Check the caller's identity and whether it normally edits role trust.
  - Treat the caller's credentials as compromised if the burst is unexplained.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  - https://github.com/RhinoSecurityLabs/pacu
  - https://attack.mitre.org/techniques/T1087/004/
*/
select
    arg_min(event_id, (event_time, event_id)) as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    string_agg(distinct concat('role/', coalesce(target_role, '?')), ', '
               order by concat('role/', coalesce(target_role, '?'))) as resource,
    string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
    min(aws_region) as region,
    min(error_code) as error_code,
    concat(count(*), ' trust policy updates by ', coalesce(actor, '?'),
           ' rejected as malformed (principal enumeration)') as summary,
    {'failures': count(*), 'roles': list(distinct target_role order by target_role)[:10],
     'user_agents': list(distinct user_agent order by user_agent)[:5]} as details
from iam_events
where event_name = 'UpdateAssumeRolePolicy'
  and error_code like 'MalformedPolicyDocument%'
group by actor, recipient_account_id
having count(*) >= getvariable('iam_trust_probes')
