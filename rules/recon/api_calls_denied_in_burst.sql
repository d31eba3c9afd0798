/*
id: api_calls_denied_in_burst
title: AccessDenied storm from one identity and source IP
severity: medium
mitre: [T1526, T1580, T1069.003]
status: stable
description: >
  Detects one identity receiving at least recon_denied_calls permission errors (AccessDenied,
  AccessDeniedException, UnauthorizedOperation, Client.UnauthorizedOperation, ...) from one source
  IP within recon_denied_minutes. Someone testing what stolen credentials allow fails on most
  calls; permission brute-forcers (enumerate-iam, Pacu's iam__bruteforce_permissions) produce
  exactly this. One finding per storm; storms made entirely from the console are low.
false_positives: >
  A deployment or application whose role lost a permission and retries; a console user without
  read access to the page they opened; security scanners with partial rights.
triage:
  - 'Read the denied actions (details.actions): a spread across many services is probing, one action retried is a broken job.'
  - Check whether the identity normally calls from this IP and user agent.
  - Check which calls from the same identity succeeded around the storm.
references:
  - https://attack.mitre.org/techniques/T1526/
  - https://attack.mitre.org/techniques/T1580/
  - https://attack.mitre.org/techniques/T1069/003/
*/
select
    arg_min(event_name, (event_time, event_id)) as event_name,
    string_agg(distinct split_part(event_source, '.', 1), ', ' order by split_part(event_source, '.', 1)) as resource,
    identity as actor,
    case when count(distinct aws_region) = 1 then min(aws_region)
         else concat(count(distinct aws_region), ' regions') end as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    mode(error_code) as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    case when bool_and(console_session) then 'low' end as severity,
    concat(count(*), ' denied calls (', count(distinct event_name), ' different actions on ',
           count(distinct event_source), ' service(s)) from ', coalesce(source_ip, '?'), ' in ',
           ceil(epoch(max(event_time) - min(event_time)) / 60)::bigint, ' min',
           case when bool_and(console_session) then ', console session' else '' end) as summary,
    {'denied_calls': count(*),
     'distinct_actions': count(distinct event_name),
     'peak_in_window': max(denied_in_window),
     'actions': list(distinct concat(split_part(event_source, '.', 1), ':', event_name) order by concat(split_part(event_source, '.', 1), ':', event_name))[:60],
     'error_codes': list(distinct error_code order by error_code),
     'access_keys': list(distinct access_key_id order by access_key_id),
     'console_session': bool_and(console_session),
     'user_agents': list(distinct user_agent order by user_agent)[:5]} as details
from recon_denied_storms
group by recipient_account_id, identity, source_ip, storm_number
