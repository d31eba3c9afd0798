/*
id: root_console_login_succeeded
title: Root user signed in to the console
severity: high
mitre: [T1078.004]
status: stable
description: >
  Detects successful console sign-ins by the account's root user. Root has every permission and
  cannot be limited by policies; AWS advises never to use it for daily work, so a root sign-in is
  either a rare administrative task or a takeover.
false_positives: >
  Account owners doing the few tasks that need root (billing settings, closing the account,
  restoring access).
triage:
  - Ask the account owner whether they signed in at this time from this IP.
  - 'Check what root did next: `select * from events where user_type = ''Root'' order by event_time`.'
  - If unexpected, reset the root password, check its MFA device and rotate any root keys.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    concat('root of ', recipient_account_id) as resource,
    event_id,
    case when mfa_used = 'no' then 'critical' end as severity,
    concat('root signed in from ', coalesce(source_ip, '?'), ', MFA used: ', coalesce(mfa_used, 'not recorded')) as summary,
    {'mfa_used': mfa_used, 'user_agent': user_agent, 'login_to': additional_event_data->>'$.LoginTo'} as details
from console_logins
where user_type = 'Root'
  and succeeded
