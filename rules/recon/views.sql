-- Normalised once, over all data (first-use, novelty and own-address checks need history
-- before the window); recon_calls is the part inside the run's window. The views carry only the
-- columns the detections read, not the wide JSON ones, which keeps the window functions fast
-- on millions of rows.
--
-- Calls that AWS services make for someone are not that someone's reconnaissance: the
-- userIdentity type AWSService, an invokedBy service (except signin.amazonaws.com, which
-- older console records carry), or a service name / "AWS Internal" as source IP or user
-- agent. The console is a person browsing, but every page issues many Describe/List calls
-- itself, so console sessions are flagged and treated apart.
--
-- identity is who acted (the session for roles); baseline is what "new to this identity" is
-- measured against: the role or user behind the session, so that a role whose session names
-- change on every run (CI jobs, SDK defaults) keeps one history.
--
-- Bursts count discovery actions that are new for the baseline in all the loaded data: an
-- application or a person repeats the same few calls, someone holding new keys sweeps through
-- calls the keys never made. With no history (the data starts with the burst) every action is
-- new, and the finding says so.
--
-- Offensive-tool patterns: matched case-insensitively as substrings of the user agent, on
-- purpose (tools and distributions vary the case). event_source, when set, limits a pattern to
-- one service: the LLMjacking agents are ordinary HTTP libraries, suspicious only on Bedrock.

create or replace view recon_calls_all as
select
    event_id,
    event_time,
    event_source,
    event_name,
    event_category,
    aws_region,
    source_ip,
    user_agent,
    error_code,
    recipient_account_id,
    vpc_endpoint_id,
    user_type,
    user_arn,
    access_key_id,
    user_account_id,
    session_issuer_arn,
    -- only instance-role sessions need it; reading it from record for every event would parse them all
    case when regexp_matches(coalesce(user_arn, ''), ':assumed-role/[^/]+/i-[0-9a-fA-F]+$')
         then record->>'$.userIdentity.sessionContext.ec2RoleDelivery' end as ec2_role_delivery,
    coalesce(session_credential_from_console, false)
        or coalesce(invoked_by = 'signin.amazonaws.com', false)
        or coalesce(user_agent in ('signin.amazonaws.com', 'console.amazonaws.com')
                    or user_agent like 'console.%amazonaws.com'
                    or user_agent like '%aws-internal/%', false) as console_session,
    coalesce(regexp_matches(error_code, 'AccessDenied|Unauthorized|AuthorizationError|NotAuthorized|Forbidden'),
             false) as denied,
    (event_name like 'List%'
        or event_name like 'Describe%'
        or event_name like 'Get%'
        or event_name like 'Search%'
        or event_name like 'Lookup%'
        or event_name like 'BatchGet%'
        or event_name like 'BatchDescribe%'
        or event_name in ('GenerateCredentialReport', 'GenerateServiceLastAccessedDetails',
                          'GenerateOrganizationsAccessReport', 'SimulatePrincipalPolicy',
                          'SimulateCustomPolicy', 'DecodeAuthorizationMessage'))
        and coalesce(event_category, 'Management') <> 'Data' as discovery,
    case when user_account_id = 'ANONYMOUS_PRINCIPAL' then concat('anonymous from ', coalesce(source_ip, '?'))
         else coalesce(nullif(actor, ''), nullif(principal_id, ''), user_type, '(unknown)') end as identity,
    coalesce(session_issuer_arn,
             case when user_account_id = 'ANONYMOUS_PRINCIPAL' then concat('anonymous from ', coalesce(source_ip, '?'))
                  else coalesce(nullif(actor, ''), nullif(principal_id, ''), user_type, '(unknown)') end) as baseline
from events
where coalesce(user_type, '') <> 'AWSService'
  and coalesce(invoked_by, 'signin.amazonaws.com') = 'signin.amazonaws.com'
  and coalesce(source_ip, '') <> 'AWS Internal'
  and coalesce(source_ip, '') not like '%.amazonaws.com'
  and coalesce(user_agent, '') <> 'AWS Internal';

create or replace view recon_calls as
select *
from recon_calls_all
where in_window(event_time);

-- The first call of each discovery action by each role or user, in all the data.
create or replace view recon_new_actions as
select
    recipient_account_id,
    baseline,
    event_source,
    event_name,
    min(event_time) as first_time,
    arg_min(identity, (event_time, event_id)) as identity,
    arg_min(console_session, (event_time, event_id)) as console_session
from recon_calls_all
where discovery
  and event_time is not null
group by recipient_account_id, baseline, event_source, event_name;

-- One row per burst: new actions of one identity, at least recon_burst_new_actions of them on
-- at least recon_burst_services services within recon_burst_minutes (overlapping windows merged).
create or replace view recon_discovery_bursts as
with counted as (
    select
        *,
        count(*) over recent as new_in_window,
        count(distinct event_source) over recent as services_in_window
    from recon_new_actions
    where in_window(first_time)
    window recent as (
        partition by recipient_account_id, identity, console_session
        order by first_time
        range between to_minutes(getvariable('recon_burst_minutes')::bigint) preceding and current row
    )
),
peaks as (
    select
        *,
        bool_or(new_in_window >= getvariable('recon_burst_new_actions')
                and services_in_window >= getvariable('recon_burst_services')) over ahead as in_burst
    from counted
    window ahead as (
        partition by recipient_account_id, identity, console_session
        order by first_time
        range between current row and to_minutes(getvariable('recon_burst_minutes')::bigint) following
    )
),
hot as (
    select
        *,
        lag(first_time) over (partition by recipient_account_id, identity, console_session
                              order by first_time, event_source, event_name) as previous_time
    from peaks
    where in_burst
),
numbered as (
    select
        *,
        sum(case when previous_time is null
                   or first_time - previous_time > to_minutes(getvariable('recon_burst_minutes')::bigint)
                 then 1 else 0 end)
            over (partition by recipient_account_id, identity, console_session
                  order by first_time, event_source, event_name
                  rows between unbounded preceding and current row) as burst_number
    from hot
)
select
    recipient_account_id,
    identity,
    console_session,
    any_value(baseline) as baseline,
    burst_number,
    min(first_time) as burst_start,
    max(first_time) as burst_end,
    count(*) as new_actions,
    max(new_in_window) as peak_new_in_window,
    max(services_in_window) as peak_services_in_window
from numbered
group by recipient_account_id, identity, console_session, burst_number;

-- Every discovery call of the identity from the first to the last new action of its burst.
create or replace view recon_discovery_burst_calls as
select
    c.*,
    b.burst_number,
    b.burst_start,
    b.new_actions,
    b.peak_new_in_window,
    b.peak_services_in_window
from recon_discovery_bursts as b
join recon_calls as c
  on c.recipient_account_id = b.recipient_account_id
 and c.identity = b.identity
 and c.console_session = b.console_session
 and c.event_time between b.burst_start and b.burst_end
where c.discovery;

-- One row per burst in the finding columns (both burst detections read it). A burst is low when the
-- data shows nothing of the identity from before it: every action is new by construction then.
create or replace view recon_discovery_burst_findings as
with history as (
    select
        recipient_account_id,
        baseline,
        min(event_time) as first_seen
    from recon_calls_all
    where baseline in (select baseline from recon_discovery_bursts)
    group by all
)
select
    b.console_session,
    min(b.event_time) as event_time,
    arg_min(b.event_name, (b.event_time, b.event_id)) as event_name,
    string_agg(distinct split_part(b.event_source, '.', 1), ', '
               order by split_part(b.event_source, '.', 1)) as resource,
    b.identity as actor,
    string_agg(distinct b.source_ip, ', ' order by b.source_ip) as source_ip,
    b.recipient_account_id as account_id,
    case when count(distinct b.aws_region) = 1 then min(b.aws_region)
         else concat(count(distinct b.aws_region), ' regions') end as region,
    arg_min(b.event_id, (b.event_time, b.event_id)) as event_id,
    case when count(*) filter (where b.error_code is null) = 0 then mode(b.error_code) end as error_code,
    max(b.event_time) as last_time,
    list(b.event_id order by b.event_time, b.event_id) as event_ids,
    case when min(h.first_seen) >= min(b.event_time) - to_minutes(getvariable('recon_burst_minutes')::bigint)
         then 'low' end as severity,
    concat(any_value(b.new_actions), ' discovery actions new to this identity (',
           count(distinct b.event_name), ' distinct, ', count(*), ' calls, ',
           count(*) filter (where b.error_code is not null), ' failed) across ',
           count(distinct b.event_source), ' service(s) in ',
           ceil(epoch(max(b.event_time) - min(b.event_time)) / 60)::bigint, ' min',
           case when min(h.first_seen) >= min(b.event_time) - to_minutes(getvariable('recon_burst_minutes')::bigint)
                then '; no earlier activity in the data to compare with' else '' end) as summary,
    {'new_actions': any_value(b.new_actions),
     'distinct_actions': count(distinct b.event_name),
     'calls': count(*),
     'failed_calls': count(*) filter (where b.error_code is not null),
     'peak_new_actions_in_window': any_value(b.peak_new_in_window),
     'peak_services_in_window': any_value(b.peak_services_in_window),
     'identity_first_seen': min(h.first_seen),
     'actions': list(distinct concat(split_part(b.event_source, '.', 1), ':', b.event_name) order by concat(split_part(b.event_source, '.', 1), ':', b.event_name))[:60],
     'regions': list(distinct b.aws_region order by b.aws_region),
     'access_keys': list(distinct b.access_key_id order by b.access_key_id),
     'user_agents': list(distinct b.user_agent order by b.user_agent)[:5]} as details
from recon_discovery_burst_calls as b
join history as h
  on h.recipient_account_id = b.recipient_account_id
 and h.baseline = b.baseline
group by b.recipient_account_id, b.identity, b.console_session, b.burst_number;

create or replace view recon_denied_storms as
with counted as (
    select
        *,
        count(*) over recent as denied_in_window
    from recon_calls
    where denied
      and event_time is not null
    window recent as (
        partition by recipient_account_id, identity, source_ip
        order by event_time
        range between to_minutes(getvariable('recon_denied_minutes')::bigint) preceding and current row
    )
),
peaks as (
    select
        *,
        max(denied_in_window) over ahead as peak_ahead
    from counted
    window ahead as (
        partition by recipient_account_id, identity, source_ip
        order by event_time
        range between current row and to_minutes(getvariable('recon_denied_minutes')::bigint) following
    )
),
hot as (
    select
        *,
        lag(event_time) over (partition by recipient_account_id, identity, source_ip
                              order by event_time, event_id) as previous_time
    from peaks
    where peak_ahead >= getvariable('recon_denied_calls')
)
select
    *,
    sum(case when previous_time is null
               or event_time - previous_time > to_minutes(getvariable('recon_denied_minutes')::bigint)
             then 1 else 0 end)
        over (partition by recipient_account_id, identity, source_ip
              order by event_time, event_id
              rows between unbounded preceding and current row) as storm_number
from hot;

create or replace view recon_agent_patterns as
select *
from (values
    ('kali', 'Kali Linux', 'high', null::varchar),
    ('parrot', 'Parrot OS', 'high', null),
    ('pentoo', 'Pentoo Linux', 'high', null),
    ('pacu', 'Pacu', 'high', null),
    ('trufflehog', 'TruffleHog', 'high', null),
    ('cloudfox', 'CloudFox', 'high', null),
    ('weirdaal', 'WeirdAAL', 'high', null),
    ('s3 browser', 'S3 Browser', 'medium', null),
    ('python-urllib3/', 'LLMjacking client (python-urllib3)', 'medium', 'bedrock.amazonaws.com'),
    ('axios/', 'LLMjacking client (axios)', 'medium', 'bedrock.amazonaws.com'),
    ('aiohttp/', 'LLMjacking client (aiohttp)', 'medium', 'bedrock.amazonaws.com'),
    ('scout suite', 'ScoutSuite', 'low', null),
    ('scoutsuite', 'ScoutSuite', 'low', null),
    ('apn_1826889', 'Prowler', 'low', null),
    ('prowler', 'Prowler', 'low', null),
    ('cloudsplaining', 'Cloudsplaining', 'low', null),
    ('cloudmapper', 'CloudMapper', 'low', null),
    ('pmapper', 'PMapper', 'low', null),
    ('principalmapper', 'PMapper', 'low', null),
    ('stratus-red-team', 'Stratus Red Team', 'low', null),
    ('grimoire', 'Grimoire', 'low', null)
) as known(pattern, tool, severity, event_source)
union all
select
    trim(extra) as pattern,
    concat('analyst pattern "', trim(extra), '"') as tool,
    'medium' as severity,
    null as event_source
from (select unnest(coalesce(getvariable('recon_extra_agents'), []::varchar[])) as extra)
where trim(extra) <> '';

-- Patterns are matched once per distinct (user agent, service), then joined back to the calls.
create or replace view recon_tool_calls as
with agents as (
    select
        user_agent,
        event_source
    from recon_calls
    where user_agent is not null
    group by all
),
matched as (
    select
        a.user_agent,
        a.event_source,
        list(distinct p.tool order by p.tool) as tools,
        list(distinct p.pattern order by p.pattern) as patterns,
        (['info', 'low', 'medium', 'high', 'critical'])[max(list_position(['info', 'low', 'medium', 'high', 'critical'],
                                                                          p.severity))] as tool_severity
    from agents as a
    join recon_agent_patterns as p
      on contains(lower(a.user_agent), lower(p.pattern))
     and (p.event_source is null or p.event_source = a.event_source)
    group by a.user_agent, a.event_source
)
select
    c.*,
    m.tools,
    m.patterns,
    m.tool_severity
from recon_calls as c
join matched as m
  on m.user_agent = c.user_agent
 and m.event_source = c.event_source;

-- Calls with a session named after an EC2 instance id (instance-profile credentials, and the
-- aws:ec2-instance identity role). The owner of a VPC endpoint (vpcEndpointAccountId, only in
-- the full record) is the same on every call through it, so one record per endpoint is read:
-- the first call is chosen without the record (a window carrying every call's record cost about
-- 3.5 CPU seconds at 2M events, for each rule reading this view; a window numbering the calls,
-- 0.4), then its record is fetched.
create or replace view recon_instance_calls_all as
with endpoint_firsts as (
    select
        vpc_endpoint_id,
        arg_min(event_id, (event_time, event_id)) as event_id,
        arg_min(event_time, (event_time, event_id)) as event_time
    from events
    where vpc_endpoint_id is not null
    group by vpc_endpoint_id
),
endpoint_owners as (
    select
        f.vpc_endpoint_id,
        min(e.record->>'$.vpcEndpointAccountId') as owner_account_id
    from endpoint_firsts as f
    join events as e
      on e.event_id = f.event_id
     and e.vpc_endpoint_id = f.vpc_endpoint_id
     and e.event_time is not distinct from f.event_time
    where e.vpc_endpoint_id is not null
    group by f.vpc_endpoint_id
)
select
    c.*,
    regexp_extract(c.user_arn, '/(i-[0-9A-Fa-f]+)$', 1) as instance_id,
    regexp_replace(c.user_arn, '/[^/]+$', '') as role_arn,
    c.event_source in ('ec2messages.amazonaws.com', 'ssmmessages.amazonaws.com')
        or c.event_name = 'RegisterManagedInstance'
        or (c.event_source = 'ssm.amazonaws.com'
            and c.event_name in ('UpdateInstanceInformation', 'ListInstanceAssociations',
                                 'UpdateInstanceAssociationStatus', 'PutInventory', 'PutComplianceItems',
                                 'GetDeployablePatchSnapshotForInstance')) as agent_channel,
    regexp_full_match(coalesce(c.source_ip, ''), '[0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*')
        as from_address,
    regexp_matches(coalesce(c.source_ip, ''),
                   '^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.'
                   || '|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|[Ff][CcDd]|[Ff][Ee]80:|::1$)')
        as from_private_address,
    coalesce(o.owner_account_id not in (c.recipient_account_id, coalesce(c.user_account_id, c.recipient_account_id)),
             false) as from_foreign_vpc_endpoint
from recon_calls_all as c
left join endpoint_owners as o
  on o.vpc_endpoint_id = c.vpc_endpoint_id
where c.user_arn like 'arn:%:assumed-role/%/i-%'
  and regexp_full_match(c.user_arn, 'arn:[^:]+:sts::[0-9]*:assumed-role/[^/]+/i-[0-9A-Fa-f]{8}([0-9A-Fa-f]{9})?');

-- Addresses the data shows to belong to an instance: its SSM agent's calls, its RunInstances
-- response, an Elastic IP associated with it.
create or replace view recon_instance_addresses as
with launched as (
    select
        unnest(json_extract(response_elements, '$.instancesSet.items[*]')) as item
    from events
    where event_source = 'ec2.amazonaws.com'
      and event_name = 'RunInstances'
      and error_code is null
),
allocated as (
    select
        response_elements->>'$.allocationId' as allocation_id,
        response_elements->>'$.publicIp' as public_ip
    from events
    where event_source = 'ec2.amazonaws.com'
      and event_name = 'AllocateAddress'
      and error_code is null
),
associated as (
    select
        request_parameters->>'$.instanceId' as instance_id,
        request_parameters->>'$.publicIp' as public_ip,
        request_parameters->>'$.allocationId' as allocation_id
    from events
    where event_source = 'ec2.amazonaws.com'
      and event_name = 'AssociateAddress'
      and error_code is null
)
select distinct
    instance_id,
    source_ip as address,
    'SSM agent traffic' as seen_in
from recon_instance_calls_all
where agent_channel
  and from_address
union
select distinct
    item->>'$.instanceId',
    item->>'$.ipAddress',
    'RunInstances response'
from launched
where item->>'$.ipAddress' is not null
union
select distinct
    s.instance_id,
    coalesce(s.public_ip, a.public_ip),
    'Elastic IP association'
from associated as s
left join allocated as a
  on a.allocation_id = s.allocation_id
where s.instance_id is not null
  and coalesce(s.public_ip, a.public_ip) is not null;

create or replace view recon_instance_outside_calls as
with egress as (
    select
        recipient_account_id,
        source_ip,
        count(distinct instance_id) as instances_from_ip
    from recon_instance_calls_all
    where not agent_channel
    group by all
)
select
    c.*,
    e.instances_from_ip
from recon_instance_calls_all as c
left join egress as e
  on e.recipient_account_id = c.recipient_account_id
 and e.source_ip = c.source_ip
left join recon_instance_addresses as a
  on a.instance_id = c.instance_id
 and a.address = c.source_ip
where in_window(c.event_time)
  and not c.agent_channel
  and a.address is null
  and (c.from_foreign_vpc_endpoint
       or (c.from_address
           and not c.from_private_address
           and c.vpc_endpoint_id is null));
