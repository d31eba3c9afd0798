/*
id: console_login_succeeded_as_federated_user
title: Console sign-in as a federated user (session minted with GetFederationToken)
severity: medium
mitre: [T1550.001, T1078.004]
status: stable
description: >
  Detects successful console sign-ins whose identity type is FederatedUser (arn ...:federated-
  user/NAME). Such a session comes from an IAM user's keys through GetFederationToken and
  GetSigninToken, not from the identity provider or SSO that people normally use: it is how stolen
  access keys become a browser session that outlives the keys.
false_positives: >
  Federation brokers built on GetFederationToken (rare since IAM Identity Center).
triage:
  - Find the GetFederationToken call that minted the session (federation_token_requested) and the IAM user behind it.
  - Review what the federated user did in the console (analyze_actor.py on its ARN).
  - Deny the IAM user's older sessions (aws:TokenIssueTime) and rotate its keys.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1550/001/
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    signin_user as resource,
    event_id,
    concat('federated user ', signin_user, ' signed in to the console from ', coalesce(source_ip, '?')) as summary,
    {'user_arn': user_arn, 'user_agent': user_agent, 'mfa_used': mfa_used} as details
from console_logins
where succeeded
  and user_type = 'FederatedUser'
