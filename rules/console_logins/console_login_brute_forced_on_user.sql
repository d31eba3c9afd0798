/*
id: console_login_brute_forced_on_user
title: Brute force against one user
severity: medium
mitre: [T1110.001]
status: stable
description: >
  Detects a user name with at least brute_force_failures failed console sign-ins within
  brute_force_minutes, from any number of IPs (a distributed guess at one user's password).
false_positives: >
  A user who forgot a changed password and keeps retrying; a saved password in a browser.
triage:
  - Ask the user whether they were signing in.
  - Check the source IPs and whether any sign-in for the user succeeded afterwards.
  - Reset the password and check the user's MFA.
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
        partition by recipient_account_id, signin_user
        order by event_time
        range between to_minutes(getvariable('brute_force_minutes')::bigint) preceding and current row
    )
)
select
    'ConsoleLogin' as event_name,
    signin_user as resource,
    signin_user as actor,
    string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
    min(aws_region) as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    'Failed authentication' as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    concat(count(*), ' failed sign-ins as ', signin_user, ' from ', count(distinct source_ip), ' IP(s)') as summary,
    {'failures': count(*), 'peak_failures_in_window': max(failures_in_window),
     'source_ips': list(distinct source_ip order by source_ip)} as details
from failures
group by recipient_account_id, signin_user
having max(failures_in_window) >= getvariable('brute_force_failures')
