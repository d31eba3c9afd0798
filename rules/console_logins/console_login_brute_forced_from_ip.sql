/*
id: console_login_brute_forced_from_ip
title: 'Brute force: many failed sign-ins from one IP'
severity: high
mitre: [T1110.001]
status: stable
description: >
  Detects a source IP with at least brute_force_failures failed console sign-ins within
  brute_force_minutes (see Notes for the values). This is password guessing against the account's
  console.
false_positives: >
  A script or a shared office NAT with a misconfigured saved password.
triage:
  - List the user names tried from this IP and whether any sign-in from it succeeded.
  - Block the IP at the network edge if it is not yours; reset the passwords of targeted users.
  - Make sure the targeted users have MFA.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1110/001/
*/
with failures as (
    select
        *,
        count(*) over recent as failures_in_window
    from console_logins
    where failed
    window recent as (
        partition by source_ip
        order by event_time
        range between to_minutes(getvariable('brute_force_minutes')::bigint) preceding and current row
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
    concat(count(*), ' failed sign-ins from ', coalesce(source_ip, '?'), ' (up to ', max(failures_in_window),
           ' within ', getvariable('brute_force_minutes'), ' minutes) against ',
           count(distinct signin_user), ' user name(s)') as summary,
    {'failures': count(*), 'peak_failures_in_window': max(failures_in_window),
     'users_tried': list(distinct signin_user order by signin_user)} as details
from failures
group by source_ip
having max(failures_in_window) >= getvariable('brute_force_failures')
