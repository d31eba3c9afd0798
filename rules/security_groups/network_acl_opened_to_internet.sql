/*
id: network_acl_opened_to_internet
title: Network ACL entry allows traffic from or to the Internet
severity: high
mitre: [T1562.007]
status: stable
description: >
  Detects CreateNetworkAclEntry and ReplaceNetworkAclEntry calls that add an allow entry for a
  CIDR with prefix length 0. Network ACLs are the subnet-level firewall; an inbound allow-all
  entry removes that layer for every instance in the subnets. Inbound entries for all protocols
  or more than 1,024 ports are high, other inbound entries medium, outbound entries low.
false_positives: >
  Public subnets whose ACL is meant to allow web traffic; the allow-all outbound entries that
  default network ACLs have.
triage:
  - Check which subnets use the ACL (`aws ec2 describe-network-acls --network-acl-ids ACL`).
  - Confirm the change with the actor's owner; compare with the ACL's other entries (rule numbers lower than this one are evaluated first).
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceNetworkAclAssociation.html
*/
select
    acl_id as resource,
    event_id,
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
