"""Hunt for reconnaissance: bursts of discovery calls, AccessDenied storms, the first
GetCallerIdentity of an access key, offensive-tool user agents, and EC2 instance-role
credentials used from outside their instance.

usage: analyze_recon.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
recon_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

thresholds (environment variables):
  CLOUDTRAIL_RECON_BURST_NEW_ACTIONS     discovery actions new to one identity that count as a burst (default 8)
  CLOUDTRAIL_RECON_BURST_SERVICES        ... on at least this many services (default 4)
  CLOUDTRAIL_RECON_BURST_MINUTES         ... within this many minutes (default 5)
  CLOUDTRAIL_RECON_DENIED_CALLS          denied calls by one identity from one IP that count as a storm (default 10)
  CLOUDTRAIL_RECON_DENIED_MINUTES        ... within this many minutes (default 10)
  CLOUDTRAIL_RECON_SHARED_EGRESS_INSTANCES  instances seen calling from one IP that make it look like a NAT
                                         gateway, lowering instance-credential findings from it to low (default 3)
  CLOUDTRAIL_RECON_EXTRA_AGENTS          extra offensive-tool user-agent patterns, comma-separated,
                                         matched case-insensitively as substrings (e.g. "mytool,redteam-")
"""
import re
import sys

import charts
import common
import detections
from detections import Area, Detection, Setting

EXTRA_AGENTS_ENV = "CLOUDTRAIL_RECON_EXTRA_AGENTS"

# Normalised once, over all data (first-use, novelty and own-address checks need history
# before the window); recon_calls is the part inside the run's window. The views carry only the
# columns the detections read, not the wide JSON ones, which keeps the window functions fast
# on millions of rows.
#
# Calls that AWS services make for someone are not that someone's reconnaissance: the
# userIdentity type AWSService, an invokedBy service (except signin.amazonaws.com, which
# older console records carry), or a service name / "AWS Internal" as source IP or user
# agent. The console is a person browsing, but every page issues many Describe/List calls
# itself, so console sessions are flagged and treated apart.
#
# identity is who acted (the session for roles); baseline is what "new to this identity" is
# measured against: the role or user behind the session, so that a role whose session names
# change on every run (CI jobs, SDK defaults) keeps one history.
#
# Bursts count discovery actions that are new for the baseline in all the loaded data: an
# application or a person repeats the same few calls, someone holding new keys sweeps through
# calls the keys never made. With no history (the data starts with the burst) every action is
# new, and the finding says so.
#
# Offensive-tool patterns: matched case-insensitively as substrings of the user agent, on
# purpose (tools and distributions vary the case). event_source, when set, limits a pattern to
# one service: the LLMjacking agents are ordinary HTTP libraries, suspicious only on Bedrock.
SETUP_SQL = r"""
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
    arg_min(identity, event_time) as identity,
    arg_min(console_session, event_time) as console_session
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
    arg_min(b.event_name, b.event_time) as event_name,
    string_agg(distinct split_part(b.event_source, '.', 1), ', '
               order by split_part(b.event_source, '.', 1)) as resource,
    b.identity as actor,
    string_agg(distinct b.source_ip, ', ') as source_ip,
    b.recipient_account_id as account_id,
    case when count(distinct b.aws_region) = 1 then min(b.aws_region)
         else concat(count(distinct b.aws_region), ' regions') end as region,
    arg_min(b.event_id, b.event_time) as event_id,
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
     'actions': list(distinct concat(split_part(b.event_source, '.', 1), ':', b.event_name))[:60],
     'regions': list(distinct b.aws_region),
     'access_keys': list(distinct b.access_key_id),
     'user_agents': list(distinct b.user_agent)[:5]} as details
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
-- the full record) is the same on every call through it, so one record per endpoint is read.
create or replace view recon_instance_calls_all as
with endpoint_owners as (
    select
        vpc_endpoint_id,
        record->>'$.vpcEndpointAccountId' as owner_account_id
    from events
    where rowid in (select min(rowid) from events where vpc_endpoint_id is not null group by vpc_endpoint_id)
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
"""

SETTINGS = (
    Setting("recon_burst_new_actions", "CLOUDTRAIL_RECON_BURST_NEW_ACTIONS", 8,
            "Discovery actions new to one identity that count as a burst"),
    Setting("recon_burst_services", "CLOUDTRAIL_RECON_BURST_SERVICES", 4,
            "Services those new actions must span"),
    Setting("recon_burst_minutes", "CLOUDTRAIL_RECON_BURST_MINUTES", 5, "Discovery-burst window in minutes"),
    Setting("recon_denied_calls", "CLOUDTRAIL_RECON_DENIED_CALLS", 10,
            "Denied calls by one identity from one IP that count as a storm"),
    Setting("recon_denied_minutes", "CLOUDTRAIL_RECON_DENIED_MINUTES", 10, "AccessDenied-storm window in minutes"),
    Setting("recon_shared_egress_instances", "CLOUDTRAIL_RECON_SHARED_EGRESS_INSTANCES", 3,
            "Instances calling from one IP that make it look like a NAT gateway (their findings are low)"),
    Setting("recon_extra_agents", "CLOUDTRAIL_RECON_EXTRA_AGENTS", (),
            "Extra offensive-tool user-agent patterns (comma-separated, matched case-insensitively)"),
)

AREA = Area(
    name="recon",
    title="Reconnaissance and discovery report",
    tool="analyze_recon.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where discovery and error_code is null) as succeeded,
            count(*) filter (where denied or (discovery and error_code is not null)) as failed
        from recon_calls
        where event_time is not null
          and (discovery or denied)
        group by minute
    """,
    activity_title="Discovery calls (List/Describe/Get...) and AccessDenied errors",
    setup_sql=SETUP_SQL,
    settings=SETTINGS,
    notes=(
        "Calls that AWS services make for someone are left out everywhere: userIdentity type AWSService, "
        "an invokedBy service other than signin.amazonaws.com (which marks older console records), or a "
        "service name or \"AWS Internal\" as source IP or user agent.",
        "Discovery bursts count actions new to the identity (the role or user behind a session) in all "
        "the loaded data, not only the window: an application or a person repeats the calls it always "
        "makes, someone with stolen keys sweeps through calls the keys never made. When the data shows "
        "nothing earlier for the identity, every action is new and the burst is reported at low.",
        "Discovery calls are actions named List*, Describe*, Get*, Search*, Lookup*, BatchGet*, "
        "BatchDescribe*, plus GenerateCredentialReport, GenerateServiceLastAccessedDetails, "
        "GenerateOrganizationsAccessReport, SimulatePrincipalPolicy, SimulateCustomPolicy and "
        "DecodeAuthorizationMessage. Data events (S3 object reads and the like) are the workload, not "
        "enumeration, and are left out of bursts; they still count in AccessDenied storms.",
        "The AWS console issues many Describe/List calls for every page it shows. Bursts from console "
        "sessions (sessionCredentialFromConsole, invokedBy signin.amazonaws.com, console user agents) are "
        "reported apart, at low severity (account_enumerated_from_console); AccessDenied storms made "
        "entirely from the console are lowered to low.",
        "GetCallerIdentity: only the first call per access key in all the loaded data counts. Temporary "
        "(ASIA) keys are new for every session, so their first call is reported only when the same key, "
        "from the same source IP, is behind another finding of this report. A long-term (AKIA) key is "
        "reported at medium when the key had made other calls earlier in the data, at low when the check "
        "is the first thing the data shows it doing. A key behind other findings from the same IP takes "
        "the most severe of them.",
        "Instance credentials: a session named after an EC2 instance id used from a public address that the "
        "data does not show to be that instance's (its SSM agent traffic, its RunInstances response, an "
        "Elastic IP associated with it). Private addresses and the account's own VPC endpoints are inside "
        "the VPC and not reported; another account's VPC endpoint is. The SSM agent's own channels "
        "(ec2messages, ssmmessages, UpdateInstanceInformation and similar) are not reported.",
        f"Offensive-tool user agents are matched case-insensitively against a built-in list; set "
        f"{EXTRA_AGENTS_ENV} to comma-separated extra patterns to add your own (reported at medium).",
    ),
)

OFFENSIVE_TOOL_SQL = """
    select
        min(event_time) as event_time,
        arg_min(event_name, event_time) as event_name,
        array_to_string(tools, ', ') as resource,
        identity as actor,
        source_ip,
        recipient_account_id as account_id,
        case when count(distinct aws_region) = 1 then min(aws_region)
             else concat(count(distinct aws_region), ' regions') end as region,
        arg_min(event_id, event_time) as event_id,
        case when count(*) filter (where error_code is null) = 0 then mode(error_code) end as error_code,
        max(event_time) as last_time,
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
         'user_agents': list(distinct user_agent)[:5],
         'actions': list(distinct concat(split_part(event_source, '.', 1), ':', event_name))[:60],
         'calls': count(*),
         'failed_calls': count(*) filter (where error_code is not null),
         'access_keys': list(distinct access_key_id)} as details
    from recon_tool_calls
    where event_time is not null
    group by recipient_account_id, identity, source_ip, tools
"""


DETECTIONS = [
    Detection(
        id="account_enumerated_in_burst",
        title="Burst of new discovery calls across services by one identity",
        severity="medium",
        mitre=("T1580", "T1526", "T1087.004", "T1069.003"),
        description="Detects one identity making at least recon_burst_new_actions List/Describe/Get-style "
                    "calls it had never made before in the loaded data, on at least recon_burst_services "
                    "services, within recon_burst_minutes, outside the console. Someone holding new "
                    "credentials maps what they can reach (users, roles, buckets, instances, trails, "
                    "detectors) before acting; tools such as Pacu, ScoutSuite or enumerate-iam sweep many "
                    "services in seconds, while applications and people repeat the few calls they always "
                    "make. One finding per burst, with every discovery call in it; low when the data shows "
                    "nothing earlier for the identity to compare with.",
        false_positives="Inventory and security scanners (Prowler, ScoutSuite, CSPM products), Terraform or "
                        "CloudFormation plans that refresh many resources, engineers exploring with the CLI.",
        triage=("Identify the identity and its access key: is it a scanner or IaC role that does this on a schedule?",
                "Compare the source IP and user agent with the identity's other calls (analyze_actor.py); a new "
                "IP or an unusual agent means someone else may hold the keys.",
                "Check what the identity did after the burst (writes, AssumeRole, data reads)."),
        sql="""
            select
                event_time,
                event_name,
                resource,
                actor,
                source_ip,
                account_id,
                region,
                event_id,
                error_code,
                last_time,
                event_ids,
                severity,
                summary,
                details
            from recon_discovery_burst_findings
            where not console_session
        """,
    ),
    Detection(
        id="account_enumerated_from_console",
        title="Burst of new discovery calls across services from a console session",
        severity="low",
        mitre=("T1580", "T1526"),
        description="Detects the same bursts of new discovery calls across services when they come "
                    "from an AWS console session. The console issues many Describe/List calls for every page, so this "
                    "is usually a person browsing; it matters when the person should not be there (a "
                    "console session minted from stolen keys, a taken-over user).",
        false_positives="Anyone opening console pages (the EC2 dashboard alone makes a dozen distinct calls).",
        triage=("Confirm that the user signed in to the console at that time (see analyze_console_logins.py).",
                "If the sign-in is suspicious, review the pages visited (the actions listed) and what changed after."),
        sql="""
            select
                event_time,
                event_name,
                resource,
                actor,
                source_ip,
                account_id,
                region,
                event_id,
                error_code,
                last_time,
                event_ids,
                severity,
                summary,
                details
            from recon_discovery_burst_findings
            where console_session
        """,
    ),
    Detection(
        id="api_calls_denied_in_burst",
        title="AccessDenied storm from one identity and source IP",
        severity="medium",
        mitre=("T1526", "T1580", "T1069.003"),
        description="Detects one identity receiving at least recon_denied_calls permission errors "
                    "(AccessDenied, AccessDeniedException, UnauthorizedOperation, Client.UnauthorizedOperation, "
                    "...) from one source IP within recon_denied_minutes. Someone testing what stolen "
                    "credentials allow fails on most calls; permission brute-forcers (enumerate-iam, Pacu's "
                    "iam__bruteforce_permissions) produce exactly this. One finding per storm; storms made "
                    "entirely from the console are low.",
        false_positives="A deployment or application whose role lost a permission and retries; a console user "
                        "without read access to the page they opened; security scanners with partial rights.",
        triage=("Read the denied actions (details.actions): a spread across many services is probing, one "
                "action retried is a broken job.",
                "Check whether the identity normally calls from this IP and user agent.",
                "Check which calls from the same identity succeeded around the storm."),
        sql="""
            select
                min(event_time) as event_time,
                arg_min(event_name, event_time) as event_name,
                string_agg(distinct split_part(event_source, '.', 1), ', ' order by split_part(event_source, '.', 1)) as resource,
                identity as actor,
                source_ip,
                recipient_account_id as account_id,
                case when count(distinct aws_region) = 1 then min(aws_region)
                     else concat(count(distinct aws_region), ' regions') end as region,
                arg_min(event_id, event_time) as event_id,
                mode(error_code) as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time, event_id) as event_ids,
                case when bool_and(console_session) then 'low' end as severity,
                concat(count(*), ' denied calls (', count(distinct event_name), ' different actions on ',
                       count(distinct event_source), ' service(s)) from ', coalesce(source_ip, '?'), ' in ',
                       ceil(epoch(max(event_time) - min(event_time)) / 60)::bigint, ' min',
                       case when bool_and(console_session) then ', console session' else '' end) as summary,
                {'denied_calls': count(*),
                 'distinct_actions': count(distinct event_name),
                 'peak_in_window': max(denied_in_window),
                 'actions': list(distinct concat(split_part(event_source, '.', 1), ':', event_name))[:60],
                 'error_codes': list(distinct error_code),
                 'access_keys': list(distinct access_key_id),
                 'console_session': bool_and(console_session),
                 'user_agents': list(distinct user_agent)[:5]} as details
            from recon_denied_storms
            group by recipient_account_id, identity, source_ip, storm_number
        """,
    ),
    Detection(
        id="api_called_from_offensive_tool",
        title="API calls with an offensive-tool user agent",
        severity="high",
        mitre=("T1526", "T1078.004"),
        description="Detects calls whose user agent names an attack distribution or tool: Kali, Parrot or "
                    "Pentoo Linux, Pacu, TruffleHog (which checks found keys with GetCallerIdentity), "
                    "CloudFox, WeirdAAL (high); S3 Browser and the HTTP libraries seen in LLMjacking on "
                    "Bedrock (medium); audit and emulation tools such as ScoutSuite, Prowler, Cloudsplaining, "
                    "CloudMapper, PMapper, Stratus Red Team (low). One finding per identity, tool and source "
                    f"IP. Analysts add patterns with {EXTRA_AGENTS_ENV}.",
        false_positives="Authorised penetration tests, red-team exercises and security audits; engineers who run "
                        "Kali as a desktop. The user agent is set by the caller: its absence proves nothing.",
        triage=("Ask whether a test or audit was scheduled for this identity and IP.",
                "If not, treat the credentials as stolen: review every call they made (analyze_actor.py) and "
                "disable the key or revoke the sessions."),
        sql=OFFENSIVE_TOOL_SQL,
    ),
    Detection(
        id="instance_credentials_used_outside_instance",
        title="EC2 instance-role credentials used from outside the instance",
        severity="high",
        mitre=("T1552.005", "T1078.004"),
        description="Detects calls made with an EC2 instance's role credentials (a session named after the "
                    "instance id, arn ...:assumed-role/ROLE/i-...) from a public address that the data does not "
                    "show to be that instance's, or through another account's VPC endpoint. Credentials taken "
                    "from the instance metadata service (an SSRF, a compromised host) and used elsewhere look "
                    "exactly like this. One finding per role and source IP; an IP used by several instances "
                    "(recon_shared_egress_instances) looks like a NAT gateway and is low.",
        false_positives="Instances in a public subnet or behind a NAT gateway calling AWS over the Internet when "
                        "the trail holds no record showing that address (no SSM agent traffic, no Elastic IP "
                        "association); instance credentials copied deliberately to a build or admin machine.",
        triage=("Check whether the source IP is the instance's public or Elastic IP or the VPC's NAT gateway "
                "(`aws ec2 describe-instances --instance-ids ID`, `aws ec2 describe-nat-gateways`).",
                "If not, revoke the role's active sessions (an inline deny on aws:TokenIssueTime) and require "
                "IMDSv2 on the instance; details.imds_delivery 1.0 means the credentials came through IMDSv1.",
                "Look for the way in on the instance (web server logs for requests to 169.254.169.254)."),
        sql="""
            select
                min(event_time) as event_time,
                arg_min(event_name, event_time) as event_name,
                role_arn as resource,
                string_agg(distinct identity, ', ') as actor,
                source_ip,
                recipient_account_id as account_id,
                case when count(distinct aws_region) = 1 then min(aws_region)
                     else concat(count(distinct aws_region), ' regions') end as region,
                arg_min(event_id, event_time) as event_id,
                case when count(*) filter (where error_code is null) = 0 then mode(error_code) end as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time, event_id) as event_ids,
                case when max(instances_from_ip) >= getvariable('recon_shared_egress_instances') then 'low' end as severity,
                concat('credentials of instance(s) ', string_agg(distinct instance_id, ', '), ' used from ',
                       coalesce(source_ip, '?'),
                       case when bool_or(from_foreign_vpc_endpoint) then ' through another account''s VPC endpoint' else '' end,
                       ': ', count(*), ' call(s) of ', count(distinct event_name), ' action(s) (',
                       array_to_string(list(distinct event_name order by event_name)[:4], ', '),
                       case when count(distinct event_name) > 4 then ', ...' else '' end, ')',
                       case when count(*) filter (where error_code is not null) > 0
                            then concat(', ', count(*) filter (where error_code is not null), ' failed') else '' end) as summary,
                {'instances': list(distinct instance_id),
                 'actions': list(distinct concat(split_part(event_source, '.', 1), ':', event_name))[:60],
                 'calls': count(*),
                 'failed_calls': count(*) filter (where error_code is not null),
                 'access_keys': list(distinct access_key_id),
                 'imds_delivery': list(distinct ec2_role_delivery),
                 'vpc_endpoints': list(distinct vpc_endpoint_id),
                 'instances_seen_from_this_ip': max(instances_from_ip),
                 'user_agents': list(distinct user_agent)[:5]} as details
            from recon_instance_outside_calls
            group by recipient_account_id, role_arn, source_ip
        """,
    ),
    Detection(
        id="caller_identity_checked_by_new_key",
        title="First GetCallerIdentity by an access key",
        severity="medium",
        mitre=("T1087.004", "T1033"),
        description="Detects the first sts:GetCallerIdentity call made with an access key in all the loaded "
                    "data. It needs no permission and answers 'whose keys are these?', so it is usually the "
                    "first call made with stolen keys (TruffleHog and most tools start with it). Temporary "
                    "(ASIA) keys are reported only when the same key, from the same source IP, is behind "
                    "another finding of this report; long-term (AKIA) keys at medium when they had been used before in the data, low "
                    "when this is the first call the data shows. A key behind other findings takes the most "
                    "severe of them (high for stolen instance credentials).",
        false_positives="Scripts and tools that check their identity at start-up (Terraform, aws-vault, CI jobs); "
                        "a key first loaded into a new tool.",
        triage=("Compare the source IP and user agent with the key's earlier calls (details.earlier_calls, first_seen).",
                "Check what the key did next; if the IP or agent is new, ask the key's owner and rotate the key."),
        sql="""
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
                f.event_time,
                f.event_name,
                f.access_key_id as resource,
                f.identity as actor,
                f.source_ip,
                f.recipient_account_id as account_id,
                f.aws_region as region,
                f.event_id,
                f.error_code,
                f.event_time as last_time,
                [f.event_id] as event_ids,
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
        """,
    ),
    Detection(
        id="api_activity_flagged_by_insights",
        title="Unusual API activity flagged by CloudTrail Insights",
        severity="low",
        mitre=("T1526", "T1580"),
        description="Detects CloudTrail Insights events: AWS's own measure of an API whose call rate or error "
                    "rate rose far above the account's baseline (one finding per insight, its Start and End "
                    "records together). A sudden rate of GetSecretValue, ListObjects or AccessDenied errors "
                    "is how discovery sweeps and bulk data theft look from the outside; the attributions name "
                    "the identities and user agents behind the rise. Medium for error-rate insights.",
        false_positives="Deployments, batch jobs and new applications that legitimately raise an API's volume.",
        triage=("Read the attributions in details: which identity, user agent and error code drove the rise.",
                "Follow that identity through the insight's time span (analyze_actor.py with SINCE/UNTIL)."),
        sql="""
            select
                min(event_time) as event_time,
                any_value(record->>'$.insightDetails.eventName') as event_name,
                concat(any_value(record->>'$.insightDetails.eventSource'), ' ',
                       any_value(record->>'$.insightDetails.eventName')) as resource,
                coalesce(any_value(list_filter(cast(record->'$.insightDetails.insightContext.attributions' as json[]),
                                               lambda a: a->>'attribute' = 'userIdentityArn')[1]->>'$.insight[0].value'),
                         'see details') as actor,
                null as source_ip,
                recipient_account_id as account_id,
                min(aws_region) as region,
                arg_min(event_id, event_time) as event_id,
                null as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                case when any_value(record->>'$.insightDetails.insightType') = 'ApiErrorRateInsight' then 'medium' end as severity,
                concat('CloudTrail Insights: ', any_value(record->>'$.insightDetails.insightType'), ' for ',
                       any_value(record->>'$.insightDetails.eventName'), ', ',
                       any_value(record->>'$.insightDetails.insightContext.statistics.insight.average'),
                       ' a minute against a baseline of ',
                       any_value(record->>'$.insightDetails.insightContext.statistics.baseline.average')) as summary,
                {'insight_type': any_value(record->>'$.insightDetails.insightType'),
                 'states': list(record->>'$.insightDetails.state' order by event_time),
                 'attributions': any_value(record->'$.insightDetails.insightContext.attributions')} as details
            from scoped_events
            where event_type = 'AwsCloudTrailInsight'
            group by recipient_account_id, coalesce(shared_event_id, event_id)
        """,
    ),
]

def _labels(rows):
    """Chart labels for (identity, account, extra) rows: the session then the role for role
    sessions, the ARN's resource part otherwise; the account is added where two shown identities
    would otherwise read the same."""
    def short(identity):
        resource = re.sub(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:", "", identity)
        role_session = re.fullmatch(r"assumed-role/([^/]+)/(.+)", resource)
        return f"{role_session[2]} ({role_session[1]})" if role_session else resource
    labels = [short(identity) + extra for identity, _, extra in rows]
    shown = [label[:37] for label in labels]   # what is left once charts.chart_label shortens them
    return [f"{account} {label}" if shown.count(label[:37]) > 1 else label
            for label, (_, account, _) in zip(labels, rows)]


def recon_charts(con, outcomes, folder, moment):
    """Distinct discovery actions per identity, and AccessDenied errors per identity."""
    discovery = con.execute("""
        select
            identity,
            recipient_account_id,
            case when console_session then ' (console)' else '' end as extra,
            count(distinct event_name) as actions
        from recon_calls
        where discovery
        group by all
        order by actions desc, identity
        limit 15
    """).fetchall()
    by_discovery = charts.bar_chart(
        _labels([row[:3] for row in discovery]), [row[3] for row in discovery],
        "Distinct discovery actions per identity (whole window)", "distinct List/Describe/Get... actions",
        common.new_output_path(folder, "recon_discovery_by_identity", ".png", moment))
    denied = con.execute("""
        select
            identity,
            recipient_account_id,
            '' as extra,
            count(*) as errors
        from recon_calls
        where denied
        group by all
        order by errors desc, identity
        limit 15
    """).fetchall()
    by_denied = charts.bar_chart(
        _labels([row[:3] for row in denied]), [row[3] for row in denied], "AccessDenied errors per identity",
        "denied calls", common.new_output_path(folder, "recon_denied_by_identity", ".png", moment),
        colours="#f0a04b")
    return [("Distinct discovery actions per identity", by_discovery),
            ("AccessDenied errors per identity", by_denied)]


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.run_detector(
        args, AREA, DETECTIONS, extra_charts=[recon_charts]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
