/*
id: api_called_from_offensive_tool
title: API calls with an offensive-tool user agent
severity: high
mitre: [T1526, T1078.004]
status: stable
description: >
  Detects calls whose user agent names an attack distribution or tool: Kali, Parrot or Pentoo
  Linux, Pacu, TruffleHog (which checks found keys with GetCallerIdentity), CloudFox, WeirdAAL
  (high); S3 Browser and the HTTP libraries seen in LLMjacking on Bedrock (medium); audit and
  emulation tools such as ScoutSuite, Prowler, Cloudsplaining, CloudMapper, PMapper, Stratus Red
  Team (low). One finding per identity, tool and source IP. Analysts add patterns with
  CLOUDTRAIL_RECON_EXTRA_AGENTS.
false_positives: >
  Authorised penetration tests, red-team exercises and security audits; engineers who run Kali as
  a desktop. The user agent is set by the caller: its absence proves nothing.
triage:
  - Ask whether a test or audit was scheduled for this identity and IP.
  - 'If not, treat the credentials as stolen: review every call they made (analyze_actor.py) and disable the key or revoke the sessions.'
references:
  - https://attack.mitre.org/techniques/T1526/
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    arg_min(event_name, (event_time, event_id)) as event_name,
    array_to_string(tools, ', ') as resource,
    identity as actor,
    case when count(distinct aws_region) = 1 then min(aws_region)
         else concat(count(distinct aws_region), ' regions') end as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    case when count(*) filter (where error_code is null) = 0 then mode(error_code) end as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    any_value(tool_severity) as severity,
    concat(array_to_string(tools, ', '), ' user agent: ', count(*), ' call(s) of ',
           count(distinct event_name), ' action(s) (',
           array_to_string(list(distinct event_name order by event_name)[:4], ', '),
           case when count(distinct event_name) > 4 then ', ...' else '' end,
           ') from ', coalesce(source_ip, '?'),
           case when count(*) filter (where error_code is not null) > 0
                then concat(', ', count(*) filter (where error_code is not null), ' failed') else '' end) as summary,
    {'tools': tools,
     'patterns': any_value(patterns),
     'user_agents': list(distinct user_agent order by user_agent)[:5],
     'actions': list(distinct concat(split_part(event_source, '.', 1), ':', event_name) order by concat(split_part(event_source, '.', 1), ':', event_name))[:60],
     'calls': count(*),
     'failed_calls': count(*) filter (where error_code is not null),
     'access_keys': list(distinct access_key_id order by access_key_id)} as details
from recon_tool_calls
where event_time is not null
group by recipient_account_id, identity, source_ip, tools
