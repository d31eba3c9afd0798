/*
id: console_login_from_new_ip
title: Sign-in from a source IP not seen before for that user
severity: medium
mitre: [T1078.004]
status: stable
description: >
  Detects a successful console sign-in from an IP the user had never signed in from before, in all
  the data loaded (not only the window), for users with earlier sign-ins. A user's first sign-in
  in the data has no history to compare and is not reported. Federated (SSO, SAML) sign-ins are
  low: the identity provider checked them, and people reach it from many networks.
false_positives: >
  Travel, a new office or home connection, a VPN exit that changed.
triage:
  - Compare the new IP with the user's earlier IPs (details list them).
  - Ask the user; check what they did after signing in.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
  - https://attack.mitre.org/techniques/T1078/004/
*/
with history as (
    select
        *,
        count(*) over (partition by login_identity order by event_time, event_id
                       rows between unbounded preceding and 1 preceding) as earlier_sign_ins,
        count(*) over (partition by login_identity, source_ip order by event_time, event_id
                       rows between unbounded preceding and 1 preceding) as earlier_from_ip,
        list(source_ip) over (partition by login_identity order by event_time, event_id
                              rows between unbounded preceding and 1 preceding) as earlier_ips
    from console_logins_all
    where succeeded
)
select
    signin_user as resource,
    event_id,
    case when federated then 'low' end as severity,
    concat(signin_user, ' signed in from new IP ', source_ip, ' (', earlier_sign_ins,
           ' earlier sign-in(s) from other IPs)') as summary,
    {'earlier_sign_ins': earlier_sign_ins, 'earlier_ips': list_sort(list_distinct(earlier_ips))[:10],
     'user_agent': user_agent} as details
from history
where in_window(event_time)
  and earlier_sign_ins > 0
  and earlier_from_ip = 0
