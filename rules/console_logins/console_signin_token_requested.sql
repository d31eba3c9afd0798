/*
id: console_signin_token_requested
title: Console session minted from access keys (GetSigninToken)
severity: medium
mitre: [T1550.001, T1021.007]
status: stable
description: >
  Detects GetSigninToken calls not made by the AWS SSO portal. The call turns access keys or a
  role session into a console sign-in URL, a way for someone holding stolen keys to get a browser
  session (tools such as aws_consoler do this).
false_positives: >
  Internal tools that open console links for engineers from their CLI credentials.
triage:
  - Identify the keys or role behind the call and whether that principal normally uses the console.
  - Review the console activity that followed from the same source IP.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1550/001/
  - https://attack.mitre.org/techniques/T1021/007/
*/
select
    coalesce(session_issuer_arn, user_arn) as resource,
    event_id,
    concat(coalesce(actor, '?'), ' requested a console sign-in token from ', coalesce(source_ip, '?')) as summary,
    {'user_agent': user_agent, 'access_key_id': access_key_id} as details
from scoped_events
where event_source = 'signin.amazonaws.com'
  and event_name = 'GetSigninToken'
  and coalesce(user_agent, '') not like 'Jersey/${project.version}%'
