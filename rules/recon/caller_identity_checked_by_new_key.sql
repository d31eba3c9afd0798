/*
id: caller_identity_checked_by_new_key
title: First GetCallerIdentity by an access key
severity: medium
mitre: [T1087.004, T1033]
status: stable
description: >
  Detects the first sts:GetCallerIdentity call made with an access key in all the loaded data. It
  needs no permission and answers 'whose keys are these?', so it is usually the first call made
  with stolen keys (TruffleHog and most tools start with it). Temporary (ASIA) keys are reported
  only when the same key, from the same source IP, is behind another finding of this report; long-
  term (AKIA) keys at medium when they had been used before in the data, low when this is the
  first call the data shows. A key behind other findings takes the most severe of them (high for
  stolen instance credentials).
false_positives: >
  Scripts and tools that check their identity at start-up (Terraform, aws-vault, CI jobs); a key
  first loaded into a new tool.
triage:
  - Compare the source IP and user agent with the key's earlier calls (details.earlier_calls, first_seen).
  - Check what the key did next; if the IP or agent is new, ask the key's owner and rotate the key.
references:
  - https://attack.mitre.org/techniques/T1087/004/
  - https://attack.mitre.org/techniques/T1033/
*/
with checks as (
    select
        *,
        row_number() over (partition by access_key_id order by event_time, event_id) as nth
    from recon_calls_all
    where event_source = 'sts.amazonaws.com'
      and event_name = 'GetCallerIdentity'
      and access_key_id is not null
      and event_time is not null
),
firsts as (
    select *
    from checks
    where nth = 1
      and in_window(event_time)
),
history as (
    select
        f.access_key_id,
        count(e.event_id) as earlier_calls,
        min(e.event_time) as first_seen
    from firsts as f
    left join events as e
      on e.access_key_id = f.access_key_id
     and e.event_time < f.event_time
    group by f.access_key_id
),
linked as (
    select
        access_key_id,
        source_ip,
        list(distinct detection order by detection) as other_findings,
        max(list_position(['info', 'low', 'medium', 'high', 'critical'], severity)) as linked_rank
    from (
        select access_key_id, source_ip, 'account_enumerated_in_burst' as detection, 'medium' as severity
        from recon_discovery_burst_calls
        where not console_session
        union all
        select access_key_id, source_ip, 'api_calls_denied_in_burst', 'medium'
        from recon_denied_storms
        where not console_session
        union all
        select access_key_id, source_ip, 'api_called_from_offensive_tool', tool_severity
        from recon_tool_calls
        union all
        select access_key_id, source_ip, 'instance_credentials_used_outside_instance',
               case when instances_from_ip >= getvariable('recon_shared_egress_instances') then 'low'
                    else 'high' end
        from recon_instance_outside_calls
    )
    where access_key_id is not null
    group by access_key_id, source_ip
)
select
    f.access_key_id as resource,
    f.identity as actor,
    f.event_id,
    (['info', 'low', 'medium', 'high', 'critical'])[greatest(
        coalesce(l.linked_rank, 0),
        case when f.access_key_id like 'AKIA%' and h.earlier_calls > 0 then 3
             when f.access_key_id like 'AKIA%' then 2
             else 0 end)] as severity,
    concat('first GetCallerIdentity by ',
           case when f.access_key_id like 'AKIA%' then 'long-term' else 'temporary' end,
           ' key ', f.access_key_id, ' from ', coalesce(f.source_ip, '?'),
           case when h.earlier_calls > 0 then concat(' after ', h.earlier_calls, ' earlier call(s)')
                else ', no earlier calls in the data' end,
           case when l.access_key_id is not null
                then concat('; also behind ', array_to_string(l.other_findings, ', ')) else '' end) as summary,
    {'key_type': case when f.access_key_id like 'AKIA%' then 'long-term' else 'temporary' end,
     'earlier_calls': h.earlier_calls,
     'first_seen': h.first_seen,
     'other_findings': l.other_findings,
     'user_agent': f.user_agent} as details
from firsts as f
join history as h
  on h.access_key_id = f.access_key_id
left join linked as l
  on l.access_key_id = f.access_key_id
 and l.source_ip = f.source_ip
where l.access_key_id is not null
   or f.access_key_id like 'AKIA%'
