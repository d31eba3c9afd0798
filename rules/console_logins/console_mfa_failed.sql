/*
id: console_mfa_failed
title: Console sign-in failed at the MFA step
severity: high
mitre: [T1110, T1078.004]
status: stable
description: >
  Detects failed console sign-ins with MFAUsed "Yes": the password was accepted and the MFA code
  was not. Whoever tried knows the user's password.
false_positives: >
  A user whose MFA device clock drifted, or who typed an old code.
triage:
  - Ask the user whether they were signing in at that time from that IP.
  - 'If not, the password is compromised: reset it now and check the MFA device.'
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1110/
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    signin_user as resource,
    signin_user as actor,
    event_id,
    coalesce(error_code, error_message, 'Failure') as error_code,
    concat('MFA failed for ', signin_user, ' from ', coalesce(source_ip, '?'), ' after the password was accepted') as summary,
    {'mfa_identifier': additional_event_data->>'$.MFAIdentifier', 'user_agent': user_agent} as details
from console_logins
where failed
  and mfa_used = 'yes'
