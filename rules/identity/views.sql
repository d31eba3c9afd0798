-- Views of the identity area. They read identity_lineage, identity_networks and identity_agents,
-- which lineage.py builds from the events (every access key resolved to the principal and the
-- chain behind it; every address and user agent of a keyed call with its network and client
-- family). analyze_identity.py and analyze_hunt.py build them before the area runs. On a case
-- where they were never built, empty ones are created here so the rules run (and find nothing).
create table if not exists identity_lineage (
    access_key_id varchar, key_type varchar, principal varchar, session_arn varchar, origin varchar,
    service varchar, service_evidence varchar, service_networks varchar[], service_agents varchar[],
    first_principal varchar, chain varchar[], chain_keys varchar[], minted_at timestamptz
);
create table if not exists identity_networks (source_ip varchar, network varchar, in_aws boolean,
                                               address_label varchar);
create table if not exists identity_agents (user_agent varchar, agent_family varchar);

-- Every call made with an access key, with what the lineage knows about the key.
create or replace view identity_calls as
select
    e.event_id,
    e.event_time,
    e.event_source,
    e.event_name,
    e.source_ip,
    e.user_agent,
    e.error_code,
    e.invoked_by,
    e.vpc_endpoint_id,
    e.access_key_id,
    e.request_parameters,
    e.response_elements,
    l.principal,
    l.key_type,
    l.session_arn,
    l.origin,
    l.service,
    l.service_evidence,
    l.service_networks,
    l.service_agents,
    l.first_principal,
    l.chain,
    l.chain_keys,
    n.network,
    n.in_aws,
    n.address_label,
    coalesce(a.agent_family, 'none') as agent_family
from scoped_events as e
join identity_lineage as l
  on l.access_key_id = e.access_key_id
left join identity_networks as n
  on n.source_ip = e.source_ip
left join identity_agents as a
  on a.user_agent = e.user_agent;

-- Calls refused for lack of permission, the raw material of a permission brute force.
create or replace view identity_denied_calls as
select *
from identity_calls
where error_code in ('AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation',
                     'UnauthorizedOperation', 'UnauthorizedAccess', 'Forbidden', 'AuthorizationError');

-- Roles assumed (successfully) by a key or principal that had just hit a storm of denied calls:
-- the storm is counted per key and per principal, never per source IP (attackers rotate addresses).
create or replace view identity_escalations as
with assumed as (
    select
        event_id, event_time, access_key_id, principal, source_ip, user_agent,
        request_parameters->>'$.roleArn' as role_arn,
        response_elements->>'$.credentials.accessKeyId' as minted_key
    from identity_calls
    where event_source = 'sts.amazonaws.com'
      and event_name = 'AssumeRole'
      and error_code is null
),
storm as (
    select a.event_id, d.event_id as denied_id, d.event_time as denied_time, d.event_source as denied_source,
           d.source_ip as denied_ip
    from assumed as a
    join identity_denied_calls as d
      on d.access_key_id = a.access_key_id
    where d.event_time between a.event_time - to_minutes(cast(getvariable('identity_storm_minutes') as bigint)) and a.event_time
    union
    select a.event_id, d.event_id, d.event_time, d.event_source, d.source_ip
    from assumed as a
    join identity_denied_calls as d
      on d.principal = a.principal
    where d.event_time between a.event_time - to_minutes(cast(getvariable('identity_storm_minutes') as bigint)) and a.event_time
)
select
    a.*,
    count(*) as denied_calls,
    count(distinct s.denied_source) as denied_services,
    count(distinct s.denied_ip) as denied_addresses,
    min(s.denied_time) as storm_start,
    list(s.denied_id order by s.denied_time, s.denied_id) as denied_ids
from assumed as a
join storm as s
  on s.event_id = a.event_id
group by all
having count(*) >= getvariable('identity_storm_calls');
