/*
id: console_login_succeeded_after_failures
title: Successful sign-in from an IP that had just failed
severity: high
mitre: [T1110, T1078.004]
status: stable
description: >
  Detects a successful console sign-in from a source IP that had at least failures_before_success
  failed sign-ins in the failures_lookback_minutes before it. After guessing or spraying, this is
  the moment the attacker got in.
false_positives: >
  A user who mistyped the password a few times and then got it right.
triage:
  - Ask the signed-in user whether it was them; compare the IP and user agent with their usual ones.
  - Review everything the user did after this sign-in (analyze_actor.py).
  - 'If not them: disable the console password, revoke sessions, and review changes made.'
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1110/
  - https://attack.mitre.org/techniques/T1078/004/
*/
with earlier_failures as (
    select
        s.event_id,
        count(*) as failures_before,
        list(f.event_id order by f.event_time, f.event_id) as failure_ids,
        list(distinct f.signin_user order by f.signin_user) as users_that_failed,
        min(f.event_time) as first_failure
    from console_logins as s
    join console_logins_all as f
      on f.source_ip = s.source_ip
     and f.failed
     and f.event_time < s.event_time
     and f.event_time >= s.event_time - to_minutes(getvariable('failures_lookback_minutes')::bigint)
    where s.succeeded
    group by s.event_id
    having count(*) >= getvariable('failures_before_success')
)
select
    s.signin_user as resource,
    s.event_id,
    e.failure_ids || [s.event_id] as event_ids,
    concat(s.signin_user, ' signed in from ', s.source_ip, ' after ', e.failures_before,
           ' failure(s) from that IP', case when s.mfa_used = 'no' then ' (no MFA)' else '' end) as summary,
    {'failures_before': e.failures_before, 'users_that_failed': e.users_that_failed,
     'first_failure': e.first_failure, 'mfa_used': s.mfa_used} as details
from console_logins as s
join earlier_failures as e using (event_id)
where s.succeeded
