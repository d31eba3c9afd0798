"""Hunt for network exposure: security groups opened to the Internet or to public addresses,
egress opened to all, security groups created or deleted, network ACL entries that allow
all, network ACL changes, bursts of security-group changes, routes to an internet gateway,
databases made public, traffic mirroring, and RDS DB security groups opened.

usage: analyze_security_groups.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
security_groups_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

thresholds (environment variables):
  CLOUDTRAIL_SG_BURST_CHANGES  security-group changes by one actor that count as a burst (default 10)
  CLOUDTRAIL_SG_BURST_MINUTES  ... within this many minutes (default 10)
"""
import sys

import casedb
import charts
import common
import detections
from detections import Area, Detection, Setting

# Everything below reads these shared views (persistent, so any query can be pasted into duckdb):
#
# network_control_changes   EC2 calls that change security groups, network ACLs, routes, internet
#                           gateways or traffic mirroring, in the window (the activity chart).
# security_group_rule_calls AuthorizeSecurityGroupIngress/Egress and ModifySecurityGroupRules,
#                           with the group they act on.
# security_group_grants     one row per (event, rule, source) the call asked for, read from
#                           whichever shape the event has (see below), with the address scope
#                           of the source and the exposure of the ports. Detections aggregate it
#                           back to one row per event.
# security_group_rule_directions  ingress or egress of every rule created in the case.
# exposed_service_ports     the ports that make an opening high severity.
# network_acl_entries       network ACL calls with their entry fields parsed.
#
# AuthorizeSecurityGroupIngress/Egress come in two request shapes: nested
# requestParameters.ipPermissions.items[] (ipRanges.items[].cidrIp, ipv6Ranges.items[].cidrIpv6,
# groups.items[], prefixListIds.items[], ports per item) and the legacy flat
# requestParameters.cidrIp/ipProtocol/fromPort/toPort with ipPermissions {}. When the request
# holds neither (parameters omitted for size), responseElements.securityGroupRuleSet.items[] is
# read instead. ModifySecurityGroupRules wraps its request in ModifySecurityGroupRulesRequest
# with SecurityGroupRule (one object, or a list when several rules change) holding the rule id
# and the new SecurityGroupRule; it does not say whether the rule is ingress or egress, so the
# direction is looked up from the response of the call that created the rule, anywhere in the
# case, and is 'unknown' when that call is not loaded. Ports can arrive as numbers or strings.
#
# "The Internet" is any CIDR with prefix length 0: 0.0.0.0/0, ::/0, and forms such as
# 208.236.235.254/0 (anonymised logs keep the prefix length; AWS canonicalises such a CIDR to
# 0.0.0.0/0 rather than rejecting it).
SETUP_SQL = """
create or replace view network_control_changes as
select *
from scoped_events
where event_source = 'ec2.amazonaws.com'
  and event_name in (
      'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
      'RevokeSecurityGroupEgress', 'ModifySecurityGroupRules', 'UpdateSecurityGroupRuleDescriptionsIngress',
      'UpdateSecurityGroupRuleDescriptionsEgress', 'CreateSecurityGroup', 'DeleteSecurityGroup',
      'CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl', 'DeleteNetworkAclEntry',
      'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation',
      'CreateRoute', 'ReplaceRoute', 'DeleteRoute', 'CreateRouteTable', 'DeleteRouteTable',
      'AssociateRouteTable', 'DisassociateRouteTable', 'ReplaceRouteTableAssociation',
      'CreateInternetGateway', 'DeleteInternetGateway', 'AttachInternetGateway', 'DetachInternetGateway',
      'CreateTrafficMirrorFilter', 'CreateTrafficMirrorFilterRule', 'CreateTrafficMirrorSession',
      'CreateTrafficMirrorTarget', 'DeleteTrafficMirrorFilter', 'DeleteTrafficMirrorFilterRule',
      'DeleteTrafficMirrorSession', 'DeleteTrafficMirrorTarget', 'ModifyTrafficMirrorFilterNetworkServices',
      'ModifyTrafficMirrorFilterRule', 'ModifyTrafficMirrorSession'
  );

-- Ports that should never face the Internet: remote administration, file sharing, databases,
-- caches, search engines and cluster control planes. A rule whose port range includes any of
-- them (or that allows all protocols) is high severity.
create or replace view exposed_service_ports as
select *
from (values
    (20, 'FTP data'), (21, 'FTP'), (22, 'SSH'), (23, 'Telnet'), (69, 'TFTP'), (111, 'RPC portmapper'),
    (135, 'MS RPC'), (137, 'NetBIOS'), (138, 'NetBIOS'), (139, 'NetBIOS'), (161, 'SNMP'), (389, 'LDAP'),
    (445, 'SMB'), (873, 'rsync'), (1433, 'SQL Server'), (1434, 'SQL Server browser'), (1521, 'Oracle'),
    (2049, 'NFS'), (2375, 'Docker API'), (2376, 'Docker API'), (2379, 'etcd'), (3306, 'MySQL'),
    (3389, 'RDP'), (5432, 'PostgreSQL'), (5601, 'Kibana'), (5900, 'VNC'), (5984, 'CouchDB'),
    (5985, 'WinRM'), (5986, 'WinRM'), (6379, 'Redis'), (6443, 'Kubernetes API'), (9042, 'Cassandra'),
    (9092, 'Kafka'), (9200, 'Elasticsearch'), (9300, 'Elasticsearch'), (10250, 'kubelet'),
    (11211, 'Memcached'), (27017, 'MongoDB'), (27018, 'MongoDB')
) as ports(port, service);

create or replace view security_group_rule_calls as
select
    *,
    coalesce(
        request_parameters->>'$.groupId',
        request_parameters->>'$.ModifySecurityGroupRulesRequest.GroupId',
        response_elements->>'$.securityGroupRuleSet.items[0].groupId',
        request_parameters->>'$.groupName'
    ) as group_id
from scoped_events
where event_source = 'ec2.amazonaws.com'
  and event_name in ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'ModifySecurityGroupRules');

-- Direction of every rule whose creation is in the case (all data, not only the window).
create or replace view security_group_rule_directions as
select
    rule->>'$.securityGroupRuleId' as rule_id,
    case when bool_or(rule->>'$.isEgress' = 'true') then 'egress' else 'ingress' end as direction
from (
    select unnest(json_extract(response_elements, '$.securityGroupRuleSet.items[*]')) as rule
    from events
    where event_source = 'ec2.amazonaws.com'
      and event_name in ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress')
      and response_elements is not null
)
where rule->>'$.securityGroupRuleId' is not null
group by rule_id;

create or replace view security_group_grants as
with nested_items as (
    select
        event_id,
        event_name,
        unnest(json_extract(request_parameters, '$.ipPermissions.items[*]')) as item
    from security_group_rule_calls
    where event_name <> 'ModifySecurityGroupRules'
),
nested as (
    select
        event_id,
        case when event_name = 'AuthorizeSecurityGroupEgress' then 'egress' else 'ingress' end as direction,
        null as rule_id,
        lower(item->>'$.ipProtocol') as protocol,
        try_cast(item->>'$.fromPort' as integer) as from_port,
        try_cast(item->>'$.toPort' as integer) as to_port,
        list_concat(
            list_transform(json_extract_string(item, '$.ipRanges.items[*].cidrIp'),
                           lambda c: {'source': c, 'kind': 'cidr'}),
            list_transform(json_extract_string(item, '$.ipv6Ranges.items[*].cidrIpv6'),
                           lambda c: {'source': c, 'kind': 'cidr'}),
            list_transform(json_extract(item, '$.groups.items[*]'),
                           lambda g: {'source': coalesce(g->>'$.groupId', g->>'$.groupName'), 'kind': 'security group'}),
            list_transform(json_extract_string(item, '$.prefixListIds.items[*].prefixListId'),
                           lambda p: {'source': p, 'kind': 'prefix list'})
        ) as sources
    from nested_items
),
flat as (
    select
        event_id,
        case when event_name = 'AuthorizeSecurityGroupEgress' then 'egress' else 'ingress' end as direction,
        null as rule_id,
        lower(request_parameters->>'$.ipProtocol') as protocol,
        try_cast(request_parameters->>'$.fromPort' as integer) as from_port,
        try_cast(request_parameters->>'$.toPort' as integer) as to_port,
        list_filter([
            {'source': request_parameters->>'$.cidrIp', 'kind': 'cidr'},
            {'source': request_parameters->>'$.cidrIpv6', 'kind': 'cidr'},
            {'source': request_parameters->>'$.sourceSecurityGroupName', 'kind': 'security group'}
        ], lambda s: s.source is not null) as sources
    from security_group_rule_calls
    where event_name <> 'ModifySecurityGroupRules'
      and (request_parameters->>'$.cidrIp' is not null
           or request_parameters->>'$.cidrIpv6' is not null
           or request_parameters->>'$.sourceSecurityGroupName' is not null)
),
modify_items as (
    select
        event_id,
        unnest(case json_type(request_parameters, '$.ModifySecurityGroupRulesRequest.SecurityGroupRule')
                   when 'ARRAY' then json_extract(request_parameters, '$.ModifySecurityGroupRulesRequest.SecurityGroupRule[*]')
                   when 'OBJECT' then [json_extract(request_parameters, '$.ModifySecurityGroupRulesRequest.SecurityGroupRule')]
                   else []::json[]
               end) as item
    from security_group_rule_calls
    where event_name = 'ModifySecurityGroupRules'
),
modified as (
    select
        m.event_id,
        coalesce(d.direction, 'unknown') as direction,
        m.item->>'$.SecurityGroupRuleId' as rule_id,
        lower(m.item->>'$.SecurityGroupRule.IpProtocol') as protocol,
        try_cast(m.item->>'$.SecurityGroupRule.FromPort' as integer) as from_port,
        try_cast(m.item->>'$.SecurityGroupRule.ToPort' as integer) as to_port,
        list_filter([
            {'source': m.item->>'$.SecurityGroupRule.CidrIpv4', 'kind': 'cidr'},
            {'source': m.item->>'$.SecurityGroupRule.CidrIpv6', 'kind': 'cidr'},
            {'source': m.item->>'$.SecurityGroupRule.ReferencedGroupId', 'kind': 'security group'},
            {'source': m.item->>'$.SecurityGroupRule.PrefixListId', 'kind': 'prefix list'}
        ], lambda s: s.source is not null) as sources
    from modify_items as m
    left join security_group_rule_directions as d
      on d.rule_id = m.item->>'$.SecurityGroupRuleId'
),
from_request as (
    select * from nested
    union all
    select * from flat
    union all
    select * from modified
),
request_events as (
    select distinct event_id
    from from_request
    where len(sources) > 0
),
response_items as (
    select
        c.event_id,
        unnest(json_extract(c.response_elements, '$.securityGroupRuleSet.items[*]')) as item
    from security_group_rule_calls as c
    anti join request_events as r
      on r.event_id = c.event_id
    where c.event_name <> 'ModifySecurityGroupRules'
      and c.response_elements is not null
),
from_response as (
    select
        event_id,
        case when item->>'$.isEgress' = 'true' then 'egress' else 'ingress' end as direction,
        item->>'$.securityGroupRuleId' as rule_id,
        lower(item->>'$.ipProtocol') as protocol,
        try_cast(item->>'$.fromPort' as integer) as from_port,
        try_cast(item->>'$.toPort' as integer) as to_port,
        list_filter([
            {'source': item->>'$.cidrIpv4', 'kind': 'cidr'},
            {'source': item->>'$.cidrIpv6', 'kind': 'cidr'},
            {'source': item->>'$.referencedGroupInfo.groupId', 'kind': 'security group'},
            {'source': item->>'$.prefixListId', 'kind': 'prefix list'}
        ], lambda s: s.source is not null) as sources
    from response_items
),
rules as (
    select
        *,
        coalesce(protocol in ('-1', 'all'), false) as all_protocols,
        coalesce(protocol in ('tcp', 'udp', '6', '17'), false) as has_ports,
        case when from_port is null or from_port < 0 then 0 else from_port end as low_port,
        case when to_port is null or to_port < 0 then 65535 else to_port end as high_port,
        coalesce(case protocol when '6' then 'tcp' when '17' then 'udp' when '1' then 'icmp' when '58' then 'icmpv6'
                               else protocol end, 'protocol not recorded') as protocol_name
    from (select * from from_request union all select * from from_response)
),
-- What each distinct protocol and port range exposes (few of them, however many rules).
port_ranges as (
    select
        r.protocol_name,
        r.all_protocols,
        r.has_ports,
        r.low_port,
        r.high_port,
        list(concat(p.port, ' ', p.service) order by p.port) filter (where p.port is not null) as services,
        min(p.service) as first_service,
        count(p.port) as exposed_ports
    from (select distinct protocol_name, all_protocols, has_ports, low_port, high_port from rules) as r
    left join exposed_service_ports as p
      on r.has_ports
     and p.port between r.low_port and r.high_port
    group by r.protocol_name, r.all_protocols, r.has_ports, r.low_port, r.high_port
),
port_exposure as (
    select
        *,
        case
            when all_protocols then 'all traffic'
            when has_ports and low_port = high_port then concat(protocol_name, ' ', low_port)
            when has_ports then concat(protocol_name, ' ', low_port, '-', high_port)
            else protocol_name
        end as ports,
        case
            when all_protocols then 'all traffic'
            when has_ports and low_port = high_port
                then concat(protocol_name, ' ', low_port, coalesce(' (' || first_service || ')', ''))
            when has_ports
                then concat(protocol_name, ' ', low_port, '-', high_port,
                            case when exposed_ports > 0
                                 then concat(' (includes ', array_to_string(services[1:3], ', '),
                                             case when exposed_ports > 3 then ', ...' else '' end, ')')
                                 else '' end)
            else protocol_name
        end as exposure,
        case
            when all_protocols then 3
            when has_ports and exposed_ports > 0 then 3
            when has_ports and low_port = high_port and low_port in (80, 443, 8080, 8443) then 1
            when protocol_name in ('icmp', 'icmpv6') then 1
            else 2
        end as exposure_rank
    from port_ranges
),
sourced as (
    select
        * exclude (sources),
        unnest(sources) as s
    from rules
),
classified as (
    select
        * exclude (s),
        s.source as source,
        s.kind as source_kind,
        coalesce(try_cast(split_part(s.source, '/', 2) as integer),
                 case when contains(s.source, ':') then 128 else 32 end) as prefix_length,
        try_cast(split_part(s.source, '.', 1) as integer) as octet1,
        try_cast(split_part(s.source, '.', 2) as integer) as octet2,
        lower(s.source) as lowered
    from sourced
)
select
    c.event_id,
    c.direction,
    c.rule_id,
    c.protocol,
    c.from_port,
    c.to_port,
    c.source,
    c.source_kind,
    c.prefix_length,
    case
        when c.source_kind <> 'cidr' then c.source_kind
        when c.prefix_length = 0 then 'internet'
        when contains(c.source, ':') and (
                 ((c.lowered like 'fc%' or c.lowered like 'fd%') and c.prefix_length >= 7)
              or (regexp_matches(c.lowered, '^fe[89ab]') and c.prefix_length >= 10)
              or c.lowered in ('::1/128', '::/128'))
            then 'private'
        when not contains(c.source, ':') and (
                 (c.octet1 = 10 and c.prefix_length >= 8)
              or (c.octet1 = 172 and c.octet2 between 16 and 31 and c.prefix_length >= 12)
              or (c.octet1 = 192 and c.octet2 = 168 and c.prefix_length >= 16)
              or (c.octet1 = 100 and c.octet2 between 64 and 127 and c.prefix_length >= 10)
              or (c.octet1 = 169 and c.octet2 = 254 and c.prefix_length >= 16)
              or (c.octet1 in (0, 127) and c.prefix_length >= 8)
              or c.octet1 >= 224)
            then 'private'
        else 'public'
    end as scope,
    e.ports,
    coalesce(e.services, []) as services,
    e.exposure,
    e.exposure_rank
from classified as c
join port_exposure as e
  on e.protocol_name = c.protocol_name
 and e.all_protocols = c.all_protocols
 and e.has_ports = c.has_ports
 and e.low_port = c.low_port
 and e.high_port = c.high_port;

create or replace view network_acl_entries as
select
    *,
    request_parameters->>'$.networkAclId' as acl_id,
    request_parameters->>'$.ruleNumber' as rule_number,
    lower(request_parameters->>'$.ruleAction') as rule_action,
    case when request_parameters->>'$.egress' = 'true' then 'egress' else 'ingress' end as direction,
    coalesce(request_parameters->>'$.cidrBlock', request_parameters->>'$.ipv6CidrBlock') as cidr,
    request_parameters->>'$.aclProtocol' as acl_protocol,
    try_cast(request_parameters->>'$.portRange.from' as integer) as from_port,
    try_cast(request_parameters->>'$.portRange.to' as integer) as to_port,
    coalesce(event_name in ('CreateNetworkAclEntry', 'ReplaceNetworkAclEntry')
             and lower(request_parameters->>'$.ruleAction') = 'allow'
             and (try_cast(split_part(request_parameters->>'$.cidrBlock', '/', 2) as integer) = 0
                  or try_cast(split_part(request_parameters->>'$.ipv6CidrBlock', '/', 2) as integer) = 0),
             false) as allows_internet
from scoped_events
where event_source = 'ec2.amazonaws.com'
  and event_name in ('CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl', 'DeleteNetworkAclEntry',
                     'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation');
"""

SETTINGS = (
    Setting("sg_burst_changes", "CLOUDTRAIL_SG_BURST_CHANGES", 10,
            "Security-group changes by one actor that count as a burst"),
    Setting("sg_burst_minutes", "CLOUDTRAIL_SG_BURST_MINUTES", 10, "Security-group burst window in minutes"),
)

AREA = Area(
    name="security_groups",
    title="Security group and network exposure report",
    tool="analyze_security_groups.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from network_control_changes
        where event_time is not null
        group by minute
    """,
    activity_title="EC2 network-control changes (security groups, network ACLs, routes, gateways, mirroring)",
    setup_sql=SETUP_SQL,
    settings=SETTINGS,
    notes=(
        "\"The Internet\" means a CIDR with prefix length 0 (0.0.0.0/0, ::/0, or any address written "
        "with /0). A public range is any other CIDR outside the private, loopback, link-local, "
        "shared (100.64.0.0/10) and multicast ranges (IPv6: outside fc00::/7, fe80::/10, ::1).",
        "Severity of an Internet or public-range rule follows its ports: all protocols, or a port "
        "range that includes a remote-administration, file-sharing, database or cluster port (20-23, "
        "69, 111, 135-139, 161, 389, 445, 873, 1433-1434, 1521, 2049, 2375-2376, 2379, 3306, 3389, "
        "5432, 5601, 5900, 5984-5986, 6379, 6443, 9042, 9092, 9200, 9300, 10250, 11211, 27017-27018) "
        "is high; a single web port (80, 443, 8080, 8443) or ICMP is low; anything else is medium.",
        "One finding per API call: a call that adds several rules gives one finding listing every "
        "rule it asked for (details.rules), never one row per rule.",
        "ModifySecurityGroupRules does not record whether the rule is ingress or egress. The direction "
        "is taken from the call that created the rule when that call is in the case; otherwise the "
        "change is reported with the ingress detections and marked 'direction unknown'.",
        "A new security group gets an allow-all egress rule from AWS without any API call, so "
        "security_group_egress_opened_to_internet only sees egress rules someone added explicitly "
        "(infrastructure-as-code tools often re-add the default one).",
    ),
)

DETECTIONS = [
    Detection(
        id="security_group_opened_to_internet",
        title="Security group ingress opened to the Internet",
        severity="high",
        mitre=("T1562.007",),
        description="Detects calls that allow inbound traffic from the whole Internet (a CIDR with prefix "
                    "length 0) into a security group: AuthorizeSecurityGroupIngress in both request shapes, "
                    "and ModifySecurityGroupRules. Attackers open SSH, RDP or database ports to reach "
                    "instances directly or to keep a way back in. Severity follows the ports (see Notes); "
                    "failed calls are reported as attempts.",
        false_positives="Public web servers and load balancers opened on 80/443 (reported low); engineers "
                        "opening SSH briefly for debugging.",
        triage=("Check which instances, load balancers or databases use the group "
                "(`aws ec2 describe-network-interfaces --filters Name=group-id,Values=GROUP`).",
                "Confirm the change with the actor's owner; look at what the actor did just before and after.",
                "If unexpected, revoke the rule and review logins on the exposed hosts since the rule was added."),
        sql="""
            with opened as (
                select
                    event_id,
                    max(exposure_rank) filter (where scope = 'internet') as worst,
                    string_agg(concat(exposure, ' from ', source), '; ' order by exposure_rank desc, ports)
                        filter (where scope = 'internet') as internet_rules,
                    list({'direction': direction, 'ports': ports, 'source': source, 'scope': scope,
                          'rule_id': rule_id, 'services': services} order by exposure_rank desc, ports, source) as rules,
                    bool_or(direction = 'unknown') as direction_unknown
                from security_group_grants
                where direction in ('ingress', 'unknown')
                group by event_id
                having count(*) filter (where scope = 'internet') > 0
            )
            select
                e.event_time,
                e.event_name,
                e.group_id as resource,
                e.actor,
                e.source_ip,
                e.recipient_account_id as account_id,
                e.aws_region as region,
                e.event_id,
                e.error_code,
                e.event_time as last_time,
                [e.event_id] as event_ids,
                case o.worst when 3 then 'high' when 2 then 'medium' else 'low' end as severity,
                concat(coalesce(e.group_id, '?'), ' ingress opened to the Internet: ', o.internet_rules,
                       case when o.direction_unknown then ' (direction unknown)' else '' end) as summary,
                {'rules': o.rules, 'user_agent': e.user_agent, 'error_message': e.error_message} as details
            from security_group_rule_calls as e
            join opened as o using (event_id)
        """,
    ),
    Detection(
        id="security_group_opened_to_public_range",
        title="Security group ingress opened to a public address range",
        severity="medium",
        mitre=("T1562.007",),
        description="Detects calls that allow inbound traffic into a security group from a public address "
                    "range that is not the whole Internet, such as one outside IP with /32. An attacker "
                    "who wants quiet access adds a rule for their own address rather than 0.0.0.0/0. "
                    "Severity follows the ports, one level lower than for the whole Internet, except for "
                    "ranges of /8 or wider, which count as the Internet. Calls already reported by "
                    "security_group_opened_to_internet are left out.",
        false_positives="Office, VPN or partner addresses added by administrators; monitoring services.",
        triage=("Look up who owns the address range (whois, your office and VPN ranges).",
                "Confirm the change with the actor's owner; check the exposed hosts' logins from that range."),
        sql="""
            with opened as (
                select
                    event_id,
                    max(case when prefix_length <= 8 then exposure_rank else greatest(exposure_rank - 1, 1) end)
                        filter (where scope = 'public') as worst,
                    string_agg(concat(exposure, ' from ', source), '; ' order by exposure_rank desc, ports)
                        filter (where scope = 'public') as public_rules,
                    list({'direction': direction, 'ports': ports, 'source': source, 'scope': scope,
                          'rule_id': rule_id, 'services': services} order by exposure_rank desc, ports, source) as rules,
                    bool_or(direction = 'unknown') as direction_unknown
                from security_group_grants
                where direction in ('ingress', 'unknown')
                group by event_id
                having count(*) filter (where scope = 'public') > 0
                   and count(*) filter (where scope = 'internet') = 0
            )
            select
                e.event_time,
                e.event_name,
                e.group_id as resource,
                e.actor,
                e.source_ip,
                e.recipient_account_id as account_id,
                e.aws_region as region,
                e.event_id,
                e.error_code,
                e.event_time as last_time,
                [e.event_id] as event_ids,
                case o.worst when 3 then 'high' when 2 then 'medium' else 'low' end as severity,
                concat(coalesce(e.group_id, '?'), ' ingress opened to public range(s): ', o.public_rules,
                       case when o.direction_unknown then ' (direction unknown)' else '' end) as summary,
                {'rules': o.rules, 'user_agent': e.user_agent, 'error_message': e.error_message} as details
            from security_group_rule_calls as e
            join opened as o using (event_id)
        """,
    ),
    Detection(
        id="security_group_egress_opened_to_internet",
        title="Security group egress opened to the Internet",
        severity="low",
        mitre=("T1562.007", "T1048"),
        description="Detects calls that add an egress rule to a security group allowing traffic to the whole "
                    "Internet (AuthorizeSecurityGroupEgress, or ModifySecurityGroupRules on a known egress "
                    "rule). Where egress was restricted, reopening it lets a compromised host reach "
                    "command-and-control servers and send data out.",
        false_positives="Infrastructure-as-code tools re-adding AWS's default allow-all egress rule after "
                        "creating a group (see Notes).",
        triage=("Check whether the group's egress was deliberately restricted before (earlier Revoke calls).",
                "Confirm the change with the actor's owner; review outbound traffic from hosts in the group."),
        sql="""
            with opened as (
                select
                    event_id,
                    string_agg(concat(ports, ' to ', source), '; ' order by ports)
                        filter (where scope = 'internet') as internet_rules,
                    list({'direction': direction, 'ports': ports, 'destination': source, 'scope': scope,
                          'rule_id': rule_id} order by ports, source) as rules
                from security_group_grants
                where direction = 'egress'
                group by event_id
                having count(*) filter (where scope = 'internet') > 0
            )
            select
                e.event_time,
                e.event_name,
                e.group_id as resource,
                e.actor,
                e.source_ip,
                e.recipient_account_id as account_id,
                e.aws_region as region,
                e.event_id,
                e.error_code,
                e.event_time as last_time,
                [e.event_id] as event_ids,
                null as severity,
                concat(coalesce(e.group_id, '?'), ' egress opened to the Internet: ', o.internet_rules) as summary,
                {'rules': o.rules, 'user_agent': e.user_agent, 'error_message': e.error_message} as details
            from security_group_rule_calls as e
            join opened as o using (event_id)
        """,
    ),
    Detection(
        id="security_group_created",
        title="Security group created",
        severity="info",
        mitre=("T1562.007",),
        description="Detects CreateSecurityGroup calls. A new group is where an attacker puts permissive "
                    "rules before attaching it to an instance, so it is context for the exposure findings "
                    "rather than a finding on its own.",
        false_positives="Every deployment that creates groups (infrastructure as code, EKS, load balancers).",
        triage=("Look for rules added to the new group (security_group_opened_to_internet) and instances "
                "launched into it.",
                "Check whether the actor normally creates network resources."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(response_elements->>'$.groupId', request_parameters->>'$.groupName') as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat('created security group ', coalesce(request_parameters->>'$.groupName', '?'),
                       coalesce(' (' || (response_elements->>'$.groupId') || ')', ''),
                       ' in ', coalesce(request_parameters->>'$.vpcId', 'the default VPC')) as summary,
                {'group_name': request_parameters->>'$.groupName', 'vpc_id': request_parameters->>'$.vpcId',
                 'description': request_parameters->>'$.groupDescription', 'user_agent': user_agent,
                 'error_message': error_message} as details
            from scoped_events
            where event_source = 'ec2.amazonaws.com'
              and event_name = 'CreateSecurityGroup'
        """,
    ),
    Detection(
        id="security_group_deleted",
        title="Security group deleted",
        severity="low",
        mitre=("T1562.007", "T1070"),
        description="Detects DeleteSecurityGroup calls, with who created the group when that call is in the "
                    "case. Attackers delete the groups they made to cover their tracks; deleting a group "
                    "can also break the network controls that workloads rely on.",
        false_positives="Teardown of environments by infrastructure-as-code tools.",
        triage=("Check who created the group and what rules it had (details.created_by, earlier Authorize calls).",
                "If the same actor created, opened and deleted the group, treat it as clean-up after access."),
        sql="""
            with deleted as (
                select
                    *,
                    coalesce(request_parameters->>'$.groupId', request_parameters->>'$.groupName') as group_key
                from scoped_events
                where event_source = 'ec2.amazonaws.com'
                  and event_name = 'DeleteSecurityGroup'
            ),
            created as (
                select
                    coalesce(response_elements->>'$.groupId', request_parameters->>'$.groupName') as group_key,
                    arg_min(actor, event_time) as created_by,
                    min(event_time) as created_at,
                    arg_min(event_id, event_time) as created_event_id
                from events
                where event_source = 'ec2.amazonaws.com'
                  and event_name = 'CreateSecurityGroup'
                  and error_code is null
                group by 1
            )
            select
                d.event_time,
                d.event_name,
                d.group_key as resource,
                d.actor,
                d.source_ip,
                d.recipient_account_id as account_id,
                d.aws_region as region,
                d.event_id,
                d.error_code,
                d.event_time as last_time,
                case when c.created_event_id is not null and c.created_at <= d.event_time
                     then [c.created_event_id, d.event_id] else [d.event_id] end as event_ids,
                null as severity,
                concat('deleted security group ', coalesce(d.group_key, '?'),
                       case when c.created_by is null then ''
                            when c.created_by = d.actor then ' (created by the same actor)'
                            else concat(' (created by ', c.created_by, ')') end) as summary,
                {'created_by': c.created_by, 'created_at': c.created_at, 'user_agent': d.user_agent,
                 'error_message': d.error_message} as details
            from deleted as d
            left join created as c using (group_key)
        """,
    ),
    Detection(
        id="network_acl_opened_to_internet",
        title="Network ACL entry allows traffic from or to the Internet",
        severity="high",
        mitre=("T1562.007",),
        description="Detects CreateNetworkAclEntry and ReplaceNetworkAclEntry calls that add an allow entry "
                    "for a CIDR with prefix length 0. Network ACLs are the subnet-level firewall; an "
                    "inbound allow-all entry removes that layer for every instance in the subnets. Inbound "
                    "entries for all protocols or more than 1,024 ports are high, other inbound entries "
                    "medium, outbound entries low.",
        false_positives="Public subnets whose ACL is meant to allow web traffic; the allow-all outbound "
                        "entries that default network ACLs have.",
        triage=("Check which subnets use the ACL (`aws ec2 describe-network-acls --network-acl-ids ACL`).",
                "Confirm the change with the actor's owner; compare with the ACL's other entries (rule numbers "
                "lower than this one are evaluated first)."),
        sql="""
            select
                event_time,
                event_name,
                acl_id as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case
                    when direction = 'egress' then 'low'
                    when acl_protocol = '-1'
                      or (acl_protocol in ('6', '17')
                          and coalesce(to_port, 65535) - coalesce(from_port, 0) + 1 > 1024) then 'high'
                    else 'medium'
                end as severity,
                concat(coalesce(acl_id, '?'), ' ', direction, ' rule ', coalesce(rule_number, '?'), ' allows ',
                       case acl_protocol
                           when '-1' then 'all traffic'
                           when '6' then concat('tcp ', coalesce(from_port::varchar, '0'), '-', coalesce(to_port::varchar, '65535'))
                           when '17' then concat('udp ', coalesce(from_port::varchar, '0'), '-', coalesce(to_port::varchar, '65535'))
                           when '1' then 'icmp'
                           when '58' then 'icmpv6'
                           else concat('protocol ', coalesce(acl_protocol, '?'))
                       end,
                       case when direction = 'egress' then ' to ' else ' from ' end, cidr) as summary,
                {'rule_number': rule_number, 'direction': direction, 'protocol': acl_protocol,
                 'from_port': from_port, 'to_port': to_port, 'cidr': cidr, 'user_agent': user_agent,
                 'error_message': error_message} as details
            from network_acl_entries
            where allows_internet
        """,
    ),
    Detection(
        id="network_acl_changed",
        title="Network ACL created, deleted or changed",
        severity="low",
        mitre=("T1562.007",),
        description="Detects network ACL changes other than allow-all entries (reported by "
                    "network_acl_opened_to_internet): ACLs created or deleted, entries added, replaced or "
                    "deleted, and subnets moved to another ACL. Deleting a deny entry or moving a subnet to "
                    "a permissive ACL opens traffic without any allow rule being written.",
        false_positives="Network changes by infrastructure-as-code tools and network administrators.",
        triage=("Check what the ACL allowed before and after (`aws ec2 describe-network-acls`).",
                "Confirm the change with the actor's owner."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(acl_id, request_parameters->>'$.associationId', response_elements->>'$.networkAcl.networkAclId') as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(event_name, ' on ', coalesce(acl_id, request_parameters->>'$.associationId',
                                                    response_elements->>'$.networkAcl.networkAclId', '?'),
                       case when rule_number is not null
                            then concat(' (', direction, ' rule ', rule_number,
                                        coalesce(', ' || rule_action, ''), coalesce(' ' || cidr, ''), ')')
                            else '' end) as summary,
                {'rule_number': rule_number, 'direction': direction, 'rule_action': rule_action, 'cidr': cidr,
                 'protocol': acl_protocol, 'from_port': from_port, 'to_port': to_port,
                 'vpc_id': request_parameters->>'$.vpcId', 'user_agent': user_agent,
                 'error_message': error_message} as details
            from network_acl_entries
            where not allows_internet
        """,
    ),
    Detection(
        id="security_groups_changed_in_burst",
        title="Burst of security-group changes by one actor",
        severity="medium",
        mitre=("T1562.007",),
        description="Detects an actor making at least CLOUDTRAIL_SG_BURST_CHANGES (default 10) "
                    "security-group changes (rules authorized, revoked or modified, groups created or "
                    "deleted, failed calls included) within CLOUDTRAIL_SG_BURST_MINUTES (default 10). A script opening many groups at once, or trying group after "
                    "group until one call is allowed, looks like this. One finding per burst.",
        false_positives="Infrastructure-as-code applies and autoscaling tools that manage many rules at once.",
        triage=("Check the actor and user agent: a deployment role running Terraform or CloudFormation, or "
                "someone else?",
                "Look at the groups touched (details.groups) and whether any was opened to the Internet."),
        sql="""
            with changes as (
                select
                    *,
                    coalesce(request_parameters->>'$.groupId', request_parameters->>'$.ModifySecurityGroupRulesRequest.GroupId',
                             response_elements->>'$.groupId', request_parameters->>'$.groupName') as group_key,
                    lag(event_time) over (partition by recipient_account_id, actor order by event_time) as previous_time
                from network_control_changes
                where event_name in (
                      'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
                      'RevokeSecurityGroupEgress', 'ModifySecurityGroupRules', 'UpdateSecurityGroupRuleDescriptionsIngress',
                      'UpdateSecurityGroupRuleDescriptionsEgress', 'CreateSecurityGroup', 'DeleteSecurityGroup')
                  and event_time is not null
            ),
            sessions as (
                select
                    *,
                    sum(case when previous_time is null
                              or event_time - previous_time > to_minutes(getvariable('sg_burst_minutes')::bigint)
                             then 1 else 0 end)
                        over (partition by recipient_account_id, actor order by event_time
                              rows between unbounded preceding and current row) as burst_number
                from changes
            ),
            counted as (
                select
                    *,
                    count(*) over (partition by recipient_account_id, actor, burst_number order by event_time
                                   range between to_minutes(getvariable('sg_burst_minutes')::bigint) preceding
                                   and current row) as changes_in_window
                from sessions
            )
            select
                min(event_time) as event_time,
                array_to_string(list_sort(list(distinct event_name)), ', ') as event_name,
                concat(count(distinct group_key), ' security group(s)') as resource,
                actor,
                string_agg(distinct source_ip, ', ') as source_ip,
                recipient_account_id as account_id,
                string_agg(distinct aws_region, ', ') as region,
                arg_min(event_id, event_time) as event_id,
                case when count(*) filter (where error_code is null) = 0 then 'all calls failed' end as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                null as severity,
                concat(count(*), ' security-group changes across ',
                       count(distinct group_key), ' group(s) from ', strftime(min(event_time), '%Y-%m-%d %H:%M'),
                       ' to ', strftime(max(event_time), '%H:%M'), ' UTC (',
                       count(*) filter (where error_code is not null), ' failed)') as summary,
                {'changes': count(*), 'failed': count(*) filter (where error_code is not null),
                 'peak_changes_in_window': max(changes_in_window),
                 'by_action': histogram(event_name),
                 'groups': list(distinct group_key)[:50],
                 'user_agents': list(distinct user_agent)[:5]} as details
            from counted
            group by recipient_account_id, actor, burst_number
            having max(changes_in_window) >= getvariable('sg_burst_changes')
        """,
    ),
    Detection(
        id="route_added_to_internet_gateway",
        title="Default route to an internet gateway added",
        severity="medium",
        mitre=("T1562.007",),
        description="Detects CreateRoute and ReplaceRoute calls that send 0.0.0.0/0 or ::/0 to an internet "
                    "gateway (gatewayId igw-...). That makes every subnet using the route table public: "
                    "instances with public addresses become reachable from the Internet and can send data "
                    "straight out, bypassing NAT or inspection appliances.",
        false_positives="Building a new VPC's public subnets.",
        triage=("Check which subnets use the route table (`aws ec2 describe-route-tables --route-table-ids RTB`).",
                "Confirm with the network owner; if a private subnet became public, check its instances' "
                "security groups and public addresses."),
        sql="""
            select
                event_time,
                event_name,
                request_parameters->>'$.routeTableId' as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(coalesce(request_parameters->>'$.routeTableId', '?'), ': ',
                       coalesce(request_parameters->>'$.destinationCidrBlock', request_parameters->>'$.destinationIpv6CidrBlock'),
                       ' routed to internet gateway ', request_parameters->>'$.gatewayId', ' (', event_name, ')') as summary,
                {'destination': coalesce(request_parameters->>'$.destinationCidrBlock',
                                         request_parameters->>'$.destinationIpv6CidrBlock'),
                 'gateway_id': request_parameters->>'$.gatewayId', 'user_agent': user_agent,
                 'error_message': error_message} as details
            from scoped_events
            where event_source = 'ec2.amazonaws.com'
              and event_name in ('CreateRoute', 'ReplaceRoute')
              and request_parameters->>'$.gatewayId' like 'igw-%'
              and (try_cast(split_part(request_parameters->>'$.destinationCidrBlock', '/', 2) as integer) = 0
                   or try_cast(split_part(request_parameters->>'$.destinationIpv6CidrBlock', '/', 2) as integer) = 0)
        """,
    ),
    Detection(
        id="db_instance_made_public",
        title="RDS database made publicly accessible",
        severity="medium",
        mitre=("T1133",),
        description="Detects RDS instances and clusters modified with publiclyAccessible true, and ones "
                    "created, restored or replicated as publicly accessible (request or response). A public "
                    "database gets an Internet-resolvable address; with a permissive security group anyone "
                    "can reach its login. Attackers do this to copy data out or to keep access.",
        false_positives="Databases meant to be reached from outside AWS (reporting tools, development instances).",
        triage=("Check the database's security groups for rules open to the Internet or to unknown ranges.",
                "Confirm with the database owner; if unexpected, set publiclyAccessible false and review "
                "database logins since the change."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.dBInstanceIdentifier', request_parameters->>'$.dBClusterIdentifier',
                         response_elements->>'$.dBInstanceIdentifier', response_elements->>'$.dBClusterIdentifier') as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(coalesce(request_parameters->>'$.dBInstanceIdentifier', request_parameters->>'$.dBClusterIdentifier',
                                response_elements->>'$.dBInstanceIdentifier', response_elements->>'$.dBClusterIdentifier', '?'),
                       ' made publicly accessible (', event_name, ')') as summary,
                {'security_groups': request_parameters->'$.vPCSecurityGroupIds',
                 'apply_immediately': request_parameters->>'$.applyImmediately',
                 'source_snapshot': coalesce(request_parameters->>'$.dBSnapshotIdentifier',
                                             request_parameters->>'$.snapshotIdentifier'),
                 'user_agent': user_agent, 'error_message': error_message} as details
            from scoped_events
            where event_source = 'rds.amazonaws.com'
              and event_name in ('ModifyDBInstance', 'ModifyDBCluster', 'CreateDBInstance', 'CreateDBCluster',
                                 'CreateDBInstanceReadReplica', 'RestoreDBInstanceFromDBSnapshot',
                                 'RestoreDBInstanceToPointInTime', 'RestoreDBInstanceFromS3',
                                 'RestoreDBClusterFromSnapshot', 'RestoreDBClusterToPointInTime',
                                 'RestoreDBClusterFromS3')
              and (lower(request_parameters->>'$.publiclyAccessible') = 'true'
                   -- a modify call's response shows the current setting, not the change
                   or (event_name not like 'Modify%'
                       and lower(response_elements->>'$.publiclyAccessible') = 'true'))
        """,
    ),
    Detection(
        id="traffic_mirror_configured",
        title="VPC traffic mirroring configured",
        severity="medium",
        mitre=("T1040", "T1020"),
        description="Detects traffic mirroring filters, rules, targets and sessions being created, changed or "
                    "deleted. A mirror session copies every packet of a network interface to a target the "
                    "caller chooses, which captures credentials and data in transit. Creating or changing a "
                    "session is high; deleting mirroring parts is low.",
        false_positives="Network monitoring or intrusion-detection appliances set up by the security team.",
        triage=("Identify the mirrored interface and the target (details.request) and who owns the target.",
                "Confirm with the network or security team; if unknown, delete the session and treat data "
                "on the mirrored host as exposed."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(response_elements->>'$.CreateTrafficMirrorSessionResponse.trafficMirrorSession.trafficMirrorSessionId',
                         response_elements->>'$.CreateTrafficMirrorTargetResponse.trafficMirrorTarget.trafficMirrorTargetId',
                         response_elements->>'$.CreateTrafficMirrorFilterResponse.trafficMirrorFilter.trafficMirrorFilterId',
                         json_extract_string(request_parameters, '$.*.TrafficMirrorSessionId')[1],
                         json_extract_string(request_parameters, '$.*.TrafficMirrorTargetId')[1],
                         json_extract_string(request_parameters, '$.*.TrafficMirrorFilterId')[1],
                         json_extract_string(request_parameters, '$.*.NetworkInterfaceId')[1]) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name in ('CreateTrafficMirrorSession', 'ModifyTrafficMirrorSession') then 'high'
                     when event_name like 'Delete%' then 'low' end as severity,
                concat(event_name,
                       coalesce(' on interface ' || json_extract_string(request_parameters, '$.*.NetworkInterfaceId')[1], ''),
                       coalesce(' to target ' || json_extract_string(request_parameters, '$.*.TrafficMirrorTargetId')[1], '')) as summary,
                {'request': request_parameters, 'user_agent': user_agent, 'error_message': error_message} as details
            from scoped_events
            where event_source = 'ec2.amazonaws.com'
              and event_name in ('CreateTrafficMirrorFilter', 'CreateTrafficMirrorFilterRule', 'CreateTrafficMirrorSession',
                                 'CreateTrafficMirrorTarget', 'DeleteTrafficMirrorFilter', 'DeleteTrafficMirrorFilterRule',
                                 'DeleteTrafficMirrorSession', 'DeleteTrafficMirrorTarget',
                                 'ModifyTrafficMirrorFilterNetworkServices', 'ModifyTrafficMirrorFilterRule',
                                 'ModifyTrafficMirrorSession')
        """,
    ),
    Detection(
        id="db_security_group_ingress_authorized",
        title="RDS DB security group ingress authorized",
        severity="medium",
        mitre=("T1562.007",),
        description="Detects AuthorizeDBSecurityGroupIngress calls, which let a CIDR range or an EC2 security "
                    "group reach databases that use a (legacy, EC2-Classic) DB security group. The whole "
                    "Internet is high; a public range medium; an EC2 security group or private range low.",
        false_positives="Administrators of old EC2-Classic databases adding application servers.",
        triage=("Check which databases use the DB security group (`aws rds describe-db-instances`).",
                "Confirm with the database owner; revoke unexpected ranges."),
        sql="""
            with calls as (
                select
                    *,
                    request_parameters->>'$.cIDRIP' as cidr,
                    coalesce(try_cast(split_part(request_parameters->>'$.cIDRIP', '/', 2) as integer), 32) as prefix_length,
                    try_cast(split_part(request_parameters->>'$.cIDRIP', '.', 1) as integer) as octet1,
                    try_cast(split_part(request_parameters->>'$.cIDRIP', '.', 2) as integer) as octet2
                from scoped_events
                where event_source = 'rds.amazonaws.com'
                  and event_name = 'AuthorizeDBSecurityGroupIngress'
            )
            select
                event_time,
                event_name,
                request_parameters->>'$.dBSecurityGroupName' as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case
                    when cidr is null then 'low'
                    when prefix_length = 0 then 'high'
                    when octet1 = 10 or (octet1 = 172 and octet2 between 16 and 31) or (octet1 = 192 and octet2 = 168)
                        then 'low'
                    else 'medium'
                end as severity,
                concat(coalesce(request_parameters->>'$.dBSecurityGroupName', '?'), ' opened to ',
                       coalesce(cidr, concat('EC2 security group ',
                                             coalesce(request_parameters->>'$.eC2SecurityGroupId',
                                                      request_parameters->>'$.eC2SecurityGroupName', '?')))) as summary,
                {'cidr': cidr, 'ec2_security_group_id': request_parameters->>'$.eC2SecurityGroupId',
                 'ec2_security_group_name': request_parameters->>'$.eC2SecurityGroupName',
                 'ec2_security_group_owner': request_parameters->>'$.eC2SecurityGroupOwnerId',
                 'user_agent': user_agent, 'error_message': error_message} as details
            from calls
        """,
    ),
]


# A short actor label for charts: the role for role sessions (each CI run has its own session
# name, which would scatter one pipeline over many colours), else the ARN after the account.
SHORT_ACTOR_SQL = """
    case when session_issuer_name is not null then concat('role/', session_issuer_name)
         else coalesce(nullif(regexp_extract(actor, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:(.+)$', 1), ''), actor, '(unknown)')
    end"""


def exposure_charts(con, outcomes, folder, moment):
    """Security-group openings to the Internet by port, and network-control changes by actor."""
    ports = con.execute("""
        select
            exposure as label,
            max(exposure_rank) as rank,
            count(distinct event_id) as calls
        from security_group_grants
        where scope = 'internet'
          and direction in ('ingress', 'unknown')
        group by label
        order by calls desc, rank desc, label
        limit 15
    """).fetchall()
    by_port = charts.bar_chart(
        [label for label, _, _ in ports], [calls for _, _, calls in ports],
        "Ingress opened to the Internet, by port (colour = severity)", "API calls, failed attempts included", common.new_output_path(folder, "security_groups_internet_ports", ".png", moment),
        colours=[charts.SEVERITY_COLOURS[{3: "high", 2: "medium"}.get(rank, "low")] for _, rank, _ in ports])
    frame = casedb.frame(con, f"""
        select date_trunc('minute', event_time) as minute, {SHORT_ACTOR_SQL} as actor, count(*) as changes
        from network_control_changes
        where event_time is not null
        group by all
    """)
    # With one actor this chart would repeat the activity chart.
    by_actor = charts.time_series_by_group(
        frame, "minute", "actor", "changes", "Network-control changes by actor", "changes",
        common.new_output_path(folder, "security_groups_changes_by_actor", ".png", moment)
    ) if frame["actor"].nunique() > 1 else None
    return [("Security-group ingress opened to the Internet, by port and service (API calls, failed attempts "
             "included; red high, orange medium, blue low)", by_port),
            ("Network-control changes by actor", by_actor)]


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.run_detector(
        args, AREA, DETECTIONS, extra_charts=[exposure_charts]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
