-- The shared views every security_groups rule reads:
--
-- network_control_changes   EC2 calls that change security groups, network ACLs, routes, internet
--                           gateways or traffic mirroring, in the window (the activity chart).
-- security_group_rule_calls AuthorizeSecurityGroupIngress/Egress and ModifySecurityGroupRules,
--                           with the group they act on.
-- security_group_grants     one row per (event, rule, source) the call asked for, read from
--                           whichever shape the event has (see below), with the address scope
--                           of the source and the exposure of the ports. Detections aggregate it
--                           back to one row per event.
-- security_group_rule_directions  ingress or egress of every rule created in the case.
-- exposed_service_ports     the ports that make an opening high severity.
-- network_acl_entries       network ACL calls with their entry fields parsed.
--
-- AuthorizeSecurityGroupIngress/Egress come in two request shapes: nested
-- requestParameters.ipPermissions.items[] (ipRanges.items[].cidrIp, ipv6Ranges.items[].cidrIpv6,
-- groups.items[], prefixListIds.items[], ports per item) and the legacy flat
-- requestParameters.cidrIp/ipProtocol/fromPort/toPort with ipPermissions {}. When the request
-- holds neither (parameters omitted for size), responseElements.securityGroupRuleSet.items[] is
-- read instead. ModifySecurityGroupRules wraps its request in ModifySecurityGroupRulesRequest
-- with SecurityGroupRule (one object, or a list when several rules change) holding the rule id
-- and the new SecurityGroupRule; it does not say whether the rule is ingress or egress, so the
-- direction is looked up from the response of the call that created the rule, anywhere in the
-- case, and is 'unknown' when that call is not loaded. Ports can arrive as numbers or strings.
--
-- "The Internet" is any CIDR with prefix length 0: 0.0.0.0/0, ::/0, and forms such as
-- 208.236.235.254/0 (anonymised logs keep the prefix length; AWS canonicalises such a CIDR to
-- 0.0.0.0/0 rather than rejecting it).

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
        list(concat(p.port, ' ', p.service) order by p.port, concat(p.port, ' ', p.service)) filter (where p.port is not null) as services,
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
-- One row per ingress (or direction unknown) rule call: what it opened to the Internet and to
-- public ranges, with its rules listed most exposed first. The two ingress detections read it.
create or replace view security_group_ingress_openings as
select
    c.event_id,
    c.group_id,
    c.user_agent,
    c.error_message,
    o.* exclude (event_id)
from security_group_rule_calls as c
join (
    select
        event_id,
        count(*) filter (where scope = 'internet') as internet_grants,
        count(*) filter (where scope = 'public') as public_grants,
        max(exposure_rank) filter (where scope = 'internet') as internet_rank,
        -- A public range wider than a /8 counts as much as its ports; a narrower one a step less.
        max(case when prefix_length <= 8 then exposure_rank else greatest(exposure_rank - 1, 1) end)
            filter (where scope = 'public') as public_rank,
        string_agg(concat(exposure, ' from ', source), '; '
                   order by exposure_rank desc, ports, source, concat(exposure, ' from ', source))
            filter (where scope = 'internet') as internet_rules,
        string_agg(concat(exposure, ' from ', source), '; '
                   order by exposure_rank desc, ports, source, concat(exposure, ' from ', source))
            filter (where scope = 'public') as public_rules,
        -- Ties (same ports and source) are ordered by the whole entry, so the list has one order.
        list({'direction': direction, 'ports': ports, 'source': source, 'scope': scope,
              'rule_id': rule_id, 'services': services}
             order by exposure_rank desc, ports, source,
                      {'direction': direction, 'ports': ports, 'source': source, 'scope': scope,
                       'rule_id': rule_id, 'services': services}) as rules,
        bool_or(direction = 'unknown') as direction_unknown
    from security_group_grants
    where direction in ('ingress', 'unknown')
    group by event_id
) as o using (event_id);


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
