/*
id: console_password_sprayed_from_ip
title: 'Password spraying: one IP failing against many user names'
severity: high
mitre: [T1110.003]
status: stable
description: >
  Detects a source IP whose failed console sign-ins name at least spray_users different users
  within spray_minutes. Spraying tries a few common passwords against many accounts to stay under
  per-user lockout limits.
false_positives: >
  A shared NAT address used by many people who mistype passwords at the same time.
triage:
  - List the user names tried and check which of them exist.
  - Check for any success from the IP (console_login_succeeded_after_failures).
  - Reset passwords of the targeted users and enforce MFA.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1110/003/
*/
with failures as (
    select
        *,
        count(distinct signin_user) over recent as users_in_window
    from console_logins
    where failed
    window recent as (
        partition by source_ip
        order by event_time
        range between to_minutes(getvariable('spray_minutes')::bigint) preceding and current row
    )
)
select
    'ConsoleLogin' as event_name,
    string_agg(distinct signin_user, ', ' order by signin_user) as resource,
    concat('unknown caller at ', coalesce(source_ip, '?')) as actor,
    string_agg(distinct recipient_account_id, ', ' order by recipient_account_id) as account_id,
    min(aws_region) as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    'Failed authentication' as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    concat(count(distinct signin_user), ' user names failed from ', coalesce(source_ip, '?'),
           ' (', count(*), ' failures)') as summary,
    {'users_tried': list(distinct signin_user order by signin_user), 'failures': count(*),
     'peak_users_in_window': max(users_in_window)} as details
from failures
group by source_ip
having max(users_in_window) >= getvariable('spray_users')
