/*
id: console_login_failed
title: Failed console sign-ins (per user and source IP)
severity: low
mitre: [T1110]
status: stable
description: >
  Detects failed console sign-ins, one finding per user name and source IP. A failed sign-in is
  evidence of someone trying a password; many of them, or failures followed by a success, are
  reported by the detections below.
false_positives: >
  Users mistyping their password.
triage:
  - Check whether the source IP belongs to your organisation.
  - Look for a later success from the same IP (console_login_succeeded_after_failures).
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1110/
*/
select
    'ConsoleLogin' as event_name,
    signin_user as resource,
    signin_user as actor,
    min(aws_region) as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    coalesce(min(error_code), min(error_message), 'Failure') as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    case when bool_or(user_type = 'Root') then 'medium' end as severity,
    concat(count(*), ' failed sign-in(s) as ', signin_user, ' from ', coalesce(source_ip, '?')) as summary,
    {'failures': count(*), 'mfa_used': list(distinct mfa_used order by mfa_used), 'user_agents': list(distinct user_agent order by user_agent)[:5]} as details
from console_logins
where failed
group by signin_user, source_ip, recipient_account_id
