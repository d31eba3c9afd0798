/*
id: federation_token_requested
title: Federation token requested (GetFederationToken)
severity: medium
mitre: [T1550.001, T1078.004]
status: stable
description: >
  Detects sts GetFederationToken calls. An IAM user's keys can mint federated sessions that last
  up to 36 hours, survive the deletion of the keys that made them, and can be turned into console
  sessions (GetSigninToken); attackers use them to keep access after a leaked key is rotated. High
  when the session policies grant admin-equivalent access, low when there is no session policy
  (such a session has no permissions).
false_positives: >
  Older federation brokers and internal tools that hand out temporary credentials this way.
triage:
  - Check whether the calling user normally mints federation tokens (analyze_actor.py on it).
  - Look for calls and console sign-ins by arn:aws:sts::ACCOUNT:federated-user/NAME afterwards.
  - 'If unexpected, attach to the calling user a policy denying every action with the condition aws:TokenIssueTime before now: a federated session never has more rights than its user, so this ends the tokens it minted.'
references:
  - https://attack.mitre.org/techniques/T1550/001/
  - https://attack.mitre.org/techniques/T1078/004/
python: find_federation_tokens
*/
-- Candidates: every GetFederationToken; find_federation_tokens reads the session policies.
select
    event_id,
    actor,
    request_parameters->>'$.name' as token_name,
    request_parameters->>'$.policy' as policy,
    request_parameters->'$.policyArns' as policy_arns,
    request_parameters->>'$.durationSeconds' as duration_seconds
from scoped_events
where event_source = 'sts.amazonaws.com'
  and event_name = 'GetFederationToken'
