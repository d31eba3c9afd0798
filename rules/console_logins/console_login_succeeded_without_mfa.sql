/*
id: console_login_succeeded_without_mfa
title: Console sign-in without MFA (IAM user or root)
severity: medium
mitre: [T1078.004]
status: stable
description: >
  Detects successful console sign-ins by IAM users or root where MFAUsed is "No". Without MFA a
  stolen or guessed password is enough to get in. Federated sign-ins are excluded (see Notes).
false_positives: >
  IAM users that have no MFA device yet (new users, break-glass users) in accounts that do not
  enforce MFA.
triage:
  - 'Check whether the user has an MFA device: `aws iam list-mfa-devices --user-name NAME`.'
  - Compare the source IP and user agent with this user's other sign-ins.
  - Require MFA for console users (an IAM policy that denies actions without aws:MultiFactorAuthPresent).
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    signin_user as resource,
    event_id,
    case when user_type = 'Root' then 'critical' end as severity,
    concat(signin_user, ' signed in without MFA from ', coalesce(source_ip, '?')) as summary,
    {'user_type': user_type, 'mfa_used': mfa_used, 'user_agent': user_agent} as details
from console_logins
where succeeded
  and mfa_used = 'no'
  and user_type in ('IAMUser', 'Root')
  and not federated
