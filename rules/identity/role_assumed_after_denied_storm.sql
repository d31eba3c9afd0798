/*
id: role_assumed_after_denied_storm
title: Role assumed right after a storm of denied calls
severity: high
mitre: [T1548.005, T1078.004, T1580]
status: experimental
description: >
  Detects a successful sts:AssumeRole by a key or principal that made at least
  identity_storm_calls denied calls in the identity_storm_minutes before it. Tools that
  brute-force permissions (enumerate-iam, pacu) call hundreds of APIs to see what is allowed;
  assuming a role straight after is the step from a weak key to a stronger identity. The storm
  is counted per key and per principal, whatever addresses it came from.
false_positives: >
  A misconfigured application that fails many calls and then assumes its working role; a
  person exploring a new account with a read-only user before switching role.
triage:
  - Look at the denied calls (event_ids) and the role assumed (resource); is the role normally assumed by this principal?
  - Follow the new session (details.minted_key) with analyze_actor.py; revoke its sessions if the caller is not expected.
references:
  - https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
  - https://github.com/andresriancho/enumerate-iam
  - https://attack.mitre.org/techniques/T1548/005/
*/
select
    event_id,
    list_prepend(event_id, denied_ids) as event_ids,
    role_arn as resource,
    concat(principal, ' assumed ', coalesce(role_arn, '?'), ' after ', denied_calls, ' denied call(s) across ',
           denied_services, ' service(s) from ', denied_addresses, ' address(es) since ',
           strftime(storm_start, '%H:%M:%S'), '; new session ', coalesce(minted_key, '?')) as summary,
    {'denied_calls': denied_calls, 'denied_services': denied_services, 'denied_addresses': denied_addresses,
     'storm_start': storm_start, 'minted_key': minted_key, 'access_key_id': access_key_id} as details
from identity_escalations
