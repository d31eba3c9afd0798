"""Identity lineage: every access key in the case resolved, from the events alone, to the
principal behind it (table `identity_lineage`, built by build(con)).

  AKIA...  long-term key -> its IAM user (or root)
  ASIA...  session key   -> the call that minted it (AssumeRole, AssumeRoleWithSAML,
                            AssumeRoleWithWebIdentity, GetSessionToken, GetFederationToken,
                            Roles Anywhere CreateSession: responseElements...accessKeyId), that
                            call's caller, and so on through role chaining to the first principal

Sessions that AWS services mint for themselves (Lambda, ECS tasks, EC2 instance profiles, Glue,
SageMaker ...) are marked with the service and with where and how the role's service sessions
are normally used (networks, user-agent families). When the minting call is not in the logs the
first principal is 'unknown' - never a guess. Placeholders AWS writes instead of a name
(HIDDEN_DUE_TO_SECURITY_REASONS, ANONYMOUS_PRINCIPAL) are never principals.

Everything is set-based SQL (a few group-bys over `events` and a recursive walk over the keys),
deterministic, and stored in the case so an analyst can query it. The macros it defines
(ct_principal, ct_network, ct_agent_family) are stored too and used by the identity rules.
"""
import time

import casedb
import ipcontext

MAX_CHAIN_DEPTH = 10

# One principal per identity whatever the spelling: the user name typed at a failed sign-in,
# `user/bob` and the full ARN become arn:aws:iam::ACCOUNT:user/bob; an assumed-role session
# becomes its role's ARN (the session is kept apart in identity_lineage.session_arn).
MACROS_SQL = r"""
create or replace macro ct_placeholder(v) as
    v is null or v = '' or v in ('HIDDEN_DUE_TO_SECURITY_REASONS', 'ANONYMOUS_PRINCIPAL', 'Unknown', 'unknown');

create or replace macro ct_partition(arn) as
    coalesce(nullif(regexp_extract(arn, '^arn:([a-z-]+):', 1), ''), 'aws');

create or replace macro ct_principal(user_type, user_arn, user_name, principal_id, account, issuer_arn, invoked_by) as
    case
        when user_type = 'Root' then
            concat('arn:', ct_partition(user_arn), ':iam::', coalesce(nullif(account, ''), regexp_extract(user_arn, ':(\d{12}):', 1)), ':root')
        when user_type = 'IAMUser' and user_arn like 'arn:%:iam::%:user/%' then user_arn
        when user_type = 'IAMUser' and not ct_placeholder(user_name) and nullif(account, '') is not null then
            concat('arn:aws:iam::', account, ':user/', user_name)
        when user_type = 'AssumedRole' and issuer_arn like 'arn:%:iam::%:role/%' then issuer_arn
        when user_type = 'AssumedRole' and user_arn like 'arn:%:sts::%:assumed-role/%' then
            regexp_replace(user_arn, '^arn:([a-z-]+):sts::(\d+):assumed-role/([^/]+)/.*$', 'arn:\1:iam::\2:role/\3')
        when user_type = 'FederatedUser' and nullif(user_arn, '') is not null then user_arn
        when user_type = 'AWSService' then coalesce(nullif(invoked_by, ''), 'aws-service')
        when user_type = 'SAMLUser' and not ct_placeholder(user_name) then concat('saml-user/', user_name)
        when user_type = 'WebIdentityUser' and not ct_placeholder(user_name) then concat('web-identity/', user_name)
        when user_type = 'AWSAccount' then concat('account/', coalesce(nullif(account, ''), '?'), '/', coalesce(principal_id, '?'))
        when nullif(user_arn, '') is not null then user_arn
        when not ct_placeholder(principal_id) then concat(coalesce(user_type, 'principal'), '/', principal_id)
    end;

-- Where a call came from, coarse enough that one network is one value: an AWS service name,
-- 'private' (RFC 1918: inside a VPC), the /16 of an IPv4 address, the /48 of an IPv6 one.
create or replace macro ct_network(ip) as
    case
        when ip is null or ip = '' then null
        when ip like '%.amazonaws.com' or ip = 'AWS Internal' then concat('aws:', ip)
        when regexp_matches(ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|127\.)') then 'private'
        when regexp_matches(ip, '^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$') then concat(regexp_extract(ip, '^(\d+\.\d+)\.', 1), '.0.0/16')
        when ip like '%:%' then concat(lower(array_to_string(string_split(ip, ':')[1:3], ':')), '::/48')
        else ip
    end;

-- How a call was made: the client family of a user agent (the version and platform dropped).
create or replace macro ct_agent_family(ua) as
    case
        when ua is null or ua = '' then 'none'
        when ua like '%exec-env/AWS_Lambda%' then 'lambda-runtime'
        when ua like '%exec-env/AWS_ECS%' then 'ecs-runtime'
        when ua like '%exec-env/%' then concat('aws-runtime:', regexp_extract(ua, 'exec-env/([A-Za-z_]+)', 1))
        when ua = 'AWS Internal' or ua like '%.amazonaws.com' or ua like 'aws-internal%' then 'aws-internal'
        when ua like 'console.%' or ua like '%S3Console%' or ua like 'signin.amazonaws.com%' then 'console'
        when ua like 'Mozilla/%' then 'browser'
        when ua ilike '%terraform%' then 'terraform'
        when ua ilike '%aws-cli/%' then concat('aws-cli ', coalesce(nullif(replace(regexp_extract(lower(ua), '(linux|darwin|macos|windows|win32)', 1), 'macos', 'darwin'), ''), '?'))
        when ua ilike '%boto3%' or ua ilike 'botocore%' then 'boto'
        when ua ilike '%aws-sdk-java%' then 'java-sdk'
        when ua ilike '%aws-sdk-go%' then 'go-sdk'
        when ua ilike '%aws-sdk-js%' or ua ilike '%aws-sdk-nodejs%' then 'js-sdk'
        when ua ilike '%aws-sdk-dotnet%' then 'dotnet-sdk'
        when ua ilike '%aws-sdk-ruby%' then 'ruby-sdk'
        else lower(coalesce(nullif(regexp_extract(ua, '^\[?([A-Za-z][A-Za-z0-9._-]*)', 1), ''), 'other'))
    end;
"""

# The caller of a minting call (or of any call) as one principal.
_PRINCIPAL = ("ct_principal(user_type, user_arn, user_name, principal_id, coalesce(nullif(user_account_id, ''), "
              "recipient_account_id), session_issuer_arn, invoked_by)")

LINEAGE_SQL = rf"""
-- One pass over the events: every key's calls grouped by where they came from and how.
create or replace temp table lineage_calls as
select
    access_key_id,
    source_ip,
    user_agent,
    invoked_by,
    vpc_endpoint_id is not null as via_endpoint,
    min(event_id) as some_event,
    min(event_time) as first_seen,
    max(event_time) as last_seen,
    count(*) as events,
    count(*) filter (where error_code is not null) as failed_events,
    bool_or(session_credential_from_console) as from_console
from events
where access_key_id is not null
  and access_key_id <> ''
group by all;

-- The macros run once per distinct address and user agent, not once per call; the identity
-- rules read these two tables too.
-- in_aws and address_label come from ip_context (ipcontext.py: AWS's ip-ranges.json and .mmdb
-- files the analyst gave); NULL when no file says anything about the address.
create or replace table identity_networks as
select
    d.source_ip,
    ct_network(d.source_ip) as network,
    x.in_aws,
    nullif(x.label, '') as address_label
from (select distinct source_ip from lineage_calls where source_ip is not null) as d
left join ip_context as x
  on x.source_ip = d.source_ip;

create or replace table identity_agents as
select user_agent, ct_agent_family(user_agent) as agent_family
from (select distinct user_agent from lineage_calls where user_agent is not null);

-- A key belongs to one principal: its identity is read from one of its events (the smallest
-- event id, so the choice does not depend on the order rows are read in).
create or replace temp table lineage_identity as
with picked as (
    select access_key_id, min(some_event) as event_id
    from lineage_calls
    group by access_key_id
)
select
    p.access_key_id,
    any_value(e.user_type) as principal_type,
    any_value(ct_principal(e.user_type, e.user_arn, e.user_name, e.principal_id,
                           coalesce(nullif(e.user_account_id, ''), e.recipient_account_id),
                           e.session_issuer_arn, e.invoked_by)) as principal,
    any_value(case when e.user_type in ('AssumedRole', 'FederatedUser') then e.user_arn end) as session_arn,
    any_value(coalesce(nullif(e.user_account_id, ''), e.recipient_account_id)) as account_id,
    any_value(e.session_issuer_arn) as issuer_arn,
    any_value(e.session_issuer_type) as issuer_type
from picked as p
join events as e
  on e.event_id = p.event_id
 and e.access_key_id = p.access_key_id
group by p.access_key_id;

create or replace temp table lineage_used as
select
    i.*,
    u.* exclude (access_key_id)
from lineage_identity as i
join (
    select
        c.access_key_id,
        bool_or(from_console) as from_console,
        bool_or(invoked_by is not null) as service_invoked,
        min(first_seen) as first_seen,
        max(last_seen) as last_seen,
        sum(events) as events,
        sum(failed_events) as failed_events,
        count(distinct c.source_ip) as source_ip_count,
        list(distinct c.source_ip order by c.source_ip)[:10] as source_ips,
        list(distinct p.network order by p.network) filter (where p.network is not null) as networks,
        list(distinct coalesce(a.agent_family, 'none') order by coalesce(a.agent_family, 'none')) as agent_families,
        bool_or(a.agent_family = 'lambda-runtime') as lambda_agent,
        bool_or(a.agent_family = 'ecs-runtime') as ecs_agent
    from lineage_calls as c
    left join identity_networks as p on p.source_ip = c.source_ip
    left join identity_agents as a on a.user_agent = c.user_agent
    group by c.access_key_id
) as u
  on u.access_key_id = i.access_key_id;

-- The calls that minted session credentials, read from their responses.
create or replace temp table lineage_minted as
with calls as (
    select
        -- one parse of each response for all the paths
        json_extract_string(response_elements, ['$.credentials.accessKeyId', '$.credentialSet[0].credentials.accessKeyId',
                                                '$.assumedRoleUser.arn', '$.federatedUser.arn',
                                                '$.credentialSet[0].assumedRoleUser.arn']) as r,
        json_extract_string(request_parameters, ['$.roleArn', '$.roleSessionName', '$.name']) as q,
        event_id, event_time, event_name, source_ip, user_agent, user_type, invoked_by,
        nullif(access_key_id, '') as caller_key,
        {_PRINCIPAL} as caller
    from events
    where event_source in ('sts.amazonaws.com', 'rolesanywhere.amazonaws.com')
      and event_name in ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken',
                         'GetFederationToken', 'CreateSession', 'AssumeRoot')
      and error_code is null
      and response_elements is not null
)
select
    coalesce(r[1], r[2]) as access_key_id,
    arg_min(event_id, (event_time, event_id)) as minted_by_event_id,
    arg_min(event_name, (event_time, event_id)) as minted_by_call,
    min(event_time) as minted_at,
    arg_min(source_ip, (event_time, event_id)) as minted_from_ip,
    arg_min(user_agent, (event_time, event_id)) as minted_by_agent,
    arg_min(caller_key, (event_time, event_id)) as parent_key,
    arg_min(caller, (event_time, event_id)) as parent_principal,
    arg_min(user_type, (event_time, event_id)) as parent_type,
    arg_min(case when user_type = 'AWSService' or source_ip like '%.amazonaws.com'
                 then coalesce(nullif(invoked_by, ''), source_ip) end, (event_time, event_id)) as minting_service,
    arg_min(coalesce(r[3], r[4], r[5]), (event_time, event_id)) as minted_session_arn,
    arg_min(q[1], (event_time, event_id)) as minted_role_arn,
    arg_min(coalesce(q[2], q[3]), (event_time, event_id)) as minted_session_name
from calls
where coalesce(r[1], r[2]) is not null
group by 1;

-- Long-term keys created in these logs (CreateAccessKey), and by whom.
create or replace temp table lineage_created as
select
    response_elements->>'$.accessKey.accessKeyId' as access_key_id,
    arg_min(event_id, (event_time, event_id)) as created_by_event_id,
    min(event_time) as created_at,
    arg_min(nullif(access_key_id, ''), (event_time, event_id)) as created_by_key,
    arg_min({_PRINCIPAL}, (event_time, event_id)) as created_by_principal
from events
where event_source = 'iam.amazonaws.com'
  and event_name = 'CreateAccessKey'
  and error_code is null
  and response_elements->>'$.accessKey.accessKeyId' is not null
group by 1;

create or replace temp table lineage_base as
with joined as (
    select
        coalesce(u.access_key_id, m.access_key_id) as access_key_id,
        u.*  exclude (access_key_id),
        m.* exclude (access_key_id)
    from lineage_used as u
    full join lineage_minted as m
      on m.access_key_id = u.access_key_id
)
select
    *,
    case when access_key_id like 'AKIA%' then 'long-term'
         when access_key_id like 'ASIA%' then 'session'
         else 'other' end as key_type,
    coalesce(principal,
             case when minted_by_call = 'GetFederationToken' then minted_session_arn
                  when minted_role_arn is not null then minted_role_arn
                  when minted_by_call = 'GetSessionToken' then parent_principal end) as key_principal,
    coalesce(session_arn, minted_session_arn) as key_session_arn,
    coalesce(regexp_extract(coalesce(session_arn, minted_session_arn), '^arn:[a-z-]+:sts::\d+:(?:assumed-role/[^/]+|federated-user)/(.+)$', 1),
             minted_session_name) as session_name
from joined;

-- How each key came to be, and the first principal when the key itself says it.
create or replace temp table lineage_origin as
select
    *,
    case
        when minting_service is not null then 'service'
        when minted_by_call = 'AssumeRoleWithSAML' then 'saml'
        when minted_by_call = 'AssumeRoleWithWebIdentity' then 'web-identity'
        when minted_by_call = 'CreateSession' then 'roles-anywhere'
        when minted_by_call = 'GetSessionToken' then 'session-token'
        when minted_by_call = 'GetFederationToken' then 'federation-token'
        when minted_by_call = 'AssumeRoot' then 'assume-root'
        when minted_by_call = 'AssumeRole' then 'assumed-role'
        when key_type = 'long-term' and principal_type = 'Root' then 'root-key'
        when key_type = 'long-term' then 'user-key'
        when principal_type in ('IAMUser', 'Root') and from_console then 'console'
        when principal_type in ('IAMUser', 'Root') then 'user-session'
        when principal_type = 'FederatedUser' and issuer_type = 'IAMUser' then 'federation-token'
        else 'unknown'
    end as origin,
    case
        -- the caller had no key (a service, a SAML or web identity, a certificate): it is the start
        when minted_by_call is not null and parent_key is null then parent_principal
        when minted_by_call is not null then null                          -- resolved through parent_key
        when key_type = 'long-term' then key_principal
        when principal_type in ('IAMUser', 'Root') then key_principal      -- console or session-token session of the user
        -- a federated user's record names the IAM user whose keys created it
        when principal_type = 'FederatedUser' and issuer_type = 'IAMUser' then issuer_arn
    end as own_first_principal
from lineage_base;

-- Follow parent keys up the chain (role chaining), guarding against cycles and depth.
create or replace temp table lineage_walk as
with recursive walk(start_key, key, depth, path) as (
    select access_key_id, access_key_id, 0, [access_key_id]
    from lineage_origin
    union all
    select w.start_key, o.parent_key, w.depth + 1, list_append(w.path, o.parent_key)
    from walk as w
    join lineage_origin as o
      on o.access_key_id = w.key
    where o.parent_key is not null
      and not list_contains(w.path, o.parent_key)
      and w.depth < {MAX_CHAIN_DEPTH}
)
select * from walk;

create or replace table identity_lineage as
with tops as (
    select
        start_key,
        max(depth) as depth,
        arg_max(key, depth) as top_key
    from lineage_walk
    group by start_key
),
chains as (
    select
        w.start_key,
        list(o.key_principal order by w.depth desc) as principals,
        list(w.key order by w.depth desc) as chain_keys
    from lineage_walk as w
    join lineage_origin as o
      on o.access_key_id = w.key
    group by w.start_key
),
service_use as (
    -- Where and how each role's service sessions are normally used: calls from inside AWS
    -- (private addresses, AWS service names, VPC endpoints) or with the service's runtime agent.
    select
        o.key_principal,
        list(distinct p.network order by p.network) filter (where p.network is not null) as service_networks,
        list(distinct coalesce(a.agent_family, 'none') order by coalesce(a.agent_family, 'none')) as service_agents
    from lineage_calls as c
    join lineage_origin as o
      on o.access_key_id = c.access_key_id
    left join identity_networks as p on p.source_ip = c.source_ip
    left join identity_agents as a on a.user_agent = c.user_agent
    where c.access_key_id like 'ASIA%'
      and (o.minting_service is not null or regexp_matches(o.session_name, '^i-[0-9a-fA-F]{{8,17}}$')
           or o.lambda_agent or o.ecs_agent)
      and (p.network like 'aws:%' or p.network = 'private'
           or c.via_endpoint or c.invoked_by is not null
           or c.user_agent like '%exec-env/AWS_%')
    group by o.key_principal
)
select
    o.access_key_id,
    o.key_type,
    o.account_id,
    o.key_principal as principal,
    o.principal_type,
    o.key_session_arn as session_arn,
    o.session_name,
    o.origin,
    o.minted_by_event_id,
    o.minted_by_call,
    o.minted_at,
    o.minted_from_ip,
    o.minted_by_agent,
    o.parent_key,
    o.parent_principal,
    c2.created_by_event_id,
    c2.created_at,
    c2.created_by_key,
    c2.created_by_principal,
    case
        when o.minting_service is not null then o.minting_service
        when regexp_matches(o.session_name, '^i-[0-9a-fA-F]{{8,17}}$') then 'ec2.amazonaws.com'
        when o.lambda_agent then 'lambda.amazonaws.com'
        when o.ecs_agent then 'ecs-tasks.amazonaws.com'
        when o.session_name in ('GlueJobRunnerSession', 'GlueJobSession') then 'glue.amazonaws.com'
        when o.session_name like 'SageMaker%' then 'sagemaker.amazonaws.com'
    end as service,
    case
        when o.minting_service is not null then concat('minted by ', o.minting_service, ' (', o.minted_by_call, ')')
        when regexp_matches(o.session_name, '^i-[0-9a-fA-F]{{8,17}}$') then 'session named after an EC2 instance'
        when o.lambda_agent then 'called with the Lambda runtime user agent'
        when o.ecs_agent then 'called with the ECS runtime user agent'
        when o.session_name in ('GlueJobRunnerSession', 'GlueJobSession') then 'Glue job session name'
        when o.session_name like 'SageMaker%' then 'SageMaker session name'
    end as service_evidence,
    s.service_networks,
    s.service_agents,
    coalesce(top.own_first_principal, 'unknown') as first_principal,
    case when top.own_first_principal is not null and top.key_type = 'long-term' then top.access_key_id end as first_key,
    case when top.own_first_principal is null then 'unknown' else top.origin end as first_origin,
    case when top.own_first_principal is not null
         then list_prepend(top.own_first_principal,
                           case when c.principals[1] = top.own_first_principal then c.principals[2:] else c.principals end)
         else list_prepend('unknown', c.principals) end as chain,
    c.chain_keys,
    t.depth,
    case
        when t.depth >= {MAX_CHAIN_DEPTH} then 'chain longer than {MAX_CHAIN_DEPTH} keys: walk stopped'
        when top.parent_key is not null then 'chain loops back on itself: walk stopped'
        when top.own_first_principal is null and top.key_type = 'session'
            then 'the call that minted ' || top.access_key_id || ' is not in these logs: who is behind it is unknown'
        when top.own_first_principal is null then 'no call in these logs says who is behind this key'
    end as note,
    o.first_seen,
    o.last_seen,
    coalesce(o.events, 0) as events,
    coalesce(o.failed_events, 0) as failed_events,
    o.source_ip_count,
    o.source_ips,
    o.networks,
    o.agent_families
from lineage_origin as o
join tops as t
  on t.start_key = o.access_key_id
join lineage_origin as top
  on top.access_key_id = t.top_key
left join chains as c
  on c.start_key = o.access_key_id
left join lineage_created as c2
  on c2.access_key_id = o.access_key_id
left join service_use as s
  on s.key_principal = o.key_principal
 and (o.minting_service is not null or regexp_matches(o.session_name, '^i-[0-9a-fA-F]{{8,17}}$')
      or o.lambda_agent or o.ecs_agent);

drop table lineage_used;
drop table lineage_calls;
drop table lineage_identity;

drop table lineage_minted;
drop table lineage_created;
drop table lineage_base;
drop table lineage_origin;
drop table lineage_walk;
"""

# (column, meaning) - README.md documents the table from this list.
COLUMNS = [
    ("access_key_id", "the key (AKIA long-term, ASIA session)"),
    ("key_type", "long-term, session or other"),
    ("account_id", "account of the principal that used the key"),
    ("principal", "who uses the key, one spelling: user ARN, arn:...:root, role ARN (not the session), federated-user ARN"),
    ("principal_type", "userIdentity.type of its calls (IAMUser, Root, AssumedRole, FederatedUser, ...)"),
    ("session_arn", "assumed-role or federated-user session ARN of a session key"),
    ("session_name", "the session's name (role session name, instance id, function name, ...)"),
    ("origin", "how the key came to be: user-key, root-key, console, user-session, assumed-role, saml, web-identity, "
               "session-token, federation-token, roles-anywhere, service, unknown"),
    ("minted_by_event_id", "event id of the call whose response holds this key (NULL when not in the logs)"),
    ("minted_by_call", "that call: AssumeRole, AssumeRoleWithSAML, GetSessionToken, ..."),
    ("minted_at, minted_from_ip, minted_by_agent", "when, from where and with what client it was minted"),
    ("parent_key", "the access key that made the minting call (NULL for a service, SAML or web identity)"),
    ("parent_principal", "the principal that made the minting call"),
    ("created_by_event_id, created_at, created_by_key, created_by_principal",
     "for a long-term key created in these logs (CreateAccessKey): the call, when, and the key and principal that made it"),
    ("service", "for a session AWS minted for a service: lambda.amazonaws.com, ecs-tasks.amazonaws.com, "
                "ec2.amazonaws.com, ...; NULL otherwise"),
    ("service_evidence", "why it counts as a service session (minted by the service, session named after an "
                         "instance, the runtime's user agent)"),
    ("service_networks, service_agents", "where and how the role's service sessions are normally used: networks "
                                         "(aws:<service>, private, a.b.0.0/16) and user-agent families"),
    ("first_principal", "the principal at the start of the chain (a user, root, a service, a SAML or web "
                        "identity), or 'unknown' when the minting call is outside the logs"),
    ("first_key", "the long-term key at the start of the chain, when there is one"),
    ("first_origin", "origin of the first key of the chain"),
    ("chain", "principals from the first to this key's (role chaining), 'unknown' first when unresolved"),
    ("chain_keys", "keys from the first to this one"),
    ("depth", "number of minting steps between the first key and this one"),
    ("note", "why the chain stops where it does, in words (NULL when resolved)"),
    ("first_seen, last_seen, events, failed_events", "use of the key in the logs"),
    ("source_ip_count, source_ips", "distinct source addresses (the first ten, sorted)"),
    ("networks, agent_families", "where (ct_network) and how (ct_agent_family) the key was used"),
]


def ensure_macros(con):
    con.execute(MACROS_SQL)


def build(con, db_path=None):
    """(Re)builds identity_lineage from the events; returns (keys, seconds). With db_path, the
    case's source IPs are labelled first from the address files found for it (ipcontext), so
    identity_networks says which addresses are inside or outside AWS's published ranges."""
    started = time.monotonic()
    con.execute(ipcontext.SCHEMA_SQL)
    if db_path is not None:
        ipcontext.refresh(con, db_path).close()
    ensure_macros(con)
    con.execute(LINEAGE_SQL)
    keys = casedb.scalar(con, "select count(*) from identity_lineage")
    return keys, time.monotonic() - started


def behind(con, key):
    """The lineage row of one key as a dict, or None."""
    cursor = con.execute("select * from identity_lineage where access_key_id = ?", [key])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchall()
    return dict(zip(names, row[0])) if row else None


def describe_chain(row):
    """'alice (user key AKIA...) -> assumed AdminRole (AssumeRole at ...) -> session ASIA...' in words."""
    if row is None:
        return "not in the lineage table"
    chain = row["chain"] or []
    text = " -> ".join(_short(p) for p in chain)
    if row["service"]:
        text += f" (service session: {row['service_evidence']})"
    if row["note"]:
        text += f"; {row['note']}"
    return text


def _short(principal):
    if principal is None:
        return "?"
    for marker in (":user/", ":role/", ":assumed-role/", ":federated-user/"):
        if marker in principal:
            return marker.strip(":/") + "/" + principal.split(marker, 1)[1]
    if principal.endswith(":root"):
        return "root"
    return principal
