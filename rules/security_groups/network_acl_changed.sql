/*
id: network_acl_changed
title: Network ACL created, deleted or changed
severity: low
mitre: [T1562.007]
status: stable
description: >
  Detects network ACL changes other than allow-all entries (reported by
  network_acl_opened_to_internet): ACLs created or deleted, entries added, replaced or deleted,
  and subnets moved to another ACL. Deleting a deny entry or moving a subnet to a permissive ACL
  opens traffic without any allow rule being written.
false_positives: >
  Network changes by infrastructure-as-code tools and network administrators.
triage:
  - Check what the ACL allowed before and after (`aws ec2 describe-network-acls`).
  - Confirm the change with the actor's owner.
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceNetworkAclAssociation.html
*/
select
    coalesce(acl_id, request_parameters->>'$.associationId', response_elements->>'$.networkAcl.networkAclId') as resource,
    event_id,
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
