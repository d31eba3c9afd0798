/*
id: session_credentials_used_from_two_networks
title: One session's credentials used from two unrelated networks
severity: high
mitre: [T1550.001, T1078.004]
status: experimental
description: >
  Detects a temporary (ASIA) key used from a second public network with a client that the
  session never used on the networks it came from first (an aws-cli on a Mac after a Java SDK
  inside AWS, a Python script after a browser). One session's credentials belong to one holder;
  the same session appearing on an unrelated network with another client is the credentials
  copied and replayed. A person moving between home and office with the same client is not
  reported.
false_positives: >
  A person who uses one session from a laptop and then from a build machine; dual-stack hosts
  whose IPv4 and IPv6 addresses differ, when the clients differ too.
triage:
  - Ask the session's owner (details.first_networks, details.first_agents) whether the second network and client are theirs.
  - If not, revoke the role's or user's active sessions and look for how they leaked.
references:
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html
  - https://www.elastic.co/guide/en/security/current/aws-sts-temporary-iam-session-token-used-from-multiple-addresses.html
*/
with uses as (
    select
        access_key_id,
        network,
        min(event_time) as first_time,
        arg_min(event_id, (event_time, event_id)) as event_id,     -- the network's first call
        list(distinct agent_family order by agent_family) as agents,
        list(distinct split_part(agent_family, ' ', 1) order by split_part(agent_family, ' ', 1)) as tools,
        -- the browser console and calls AWS makes for the console are not a client of their own
        coalesce(list(distinct split_part(agent_family, ' ', 1) order by split_part(agent_family, ' ', 1))
                 filter (where agent_family not in ('console', 'aws-internal', 'browser')), []::varchar[]) as clients,
        list(distinct source_ip order by source_ip) as addresses,
        list(event_id order by event_time, event_id) as ids,
        count(*) as calls,
        any_value(coalesce(session_arn, principal)) as session
    from identity_calls
    where key_type = 'session'
      and invoked_by is null
      and network not like 'aws:%'
      and network <> 'private'
    group by access_key_id, network
),
ordered as (
    select
        *,
        row_number() over (partition by access_key_id order by first_time, event_id) as nth,
        flatten(list(tools) over (partition by access_key_id order by first_time, event_id
                                  rows between unbounded preceding and 1 preceding)) as earlier_tools,
        flatten(list(agents) over (partition by access_key_id order by first_time, event_id
                                   rows between unbounded preceding and 1 preceding)) as earlier_agents,
        list(network) over (partition by access_key_id order by first_time, event_id
                            rows between unbounded preceding and 1 preceding) as earlier_networks
    from uses
)
select
    o.event_id,
    o.ids as event_ids,
    o.access_key_id as resource,
    concat('session ', o.session, ' (', o.access_key_id, ') used from ', array_to_string(o.addresses, ', '),
           ' with ', array_to_string(o.agents, ', '), ' (', o.calls, ' call(s)) after ',
           array_to_string(o.earlier_networks, ', '), ' with ', array_to_string(list_sort(list_distinct(o.earlier_agents)), ', '),
           '; no earlier session of this identity came from that network') as summary,
    {'access_key_id': o.access_key_id, 'session': o.session, 'network': o.network, 'addresses': o.addresses,
     'agents': o.agents, 'first_networks': o.earlier_networks,
     'first_agents': list_sort(list_distinct(o.earlier_agents)), 'calls': o.calls} as details
from ordered as o
where o.nth >= 2
  -- another client: a tool the session had not used on its first networks
  and len(o.clients) > 0
  and not list_has_any(o.clients, o.earlier_tools)
  -- an unrelated network: no other session of the same identity came from it before
  and not exists (
      select 1
      from uses as u
      where u.session = o.session
        and u.network = o.network
        and u.access_key_id <> o.access_key_id
        and u.first_time < o.first_time
  )
