/*
id: db_security_group_ingress_authorized
title: RDS DB security group ingress authorized
severity: medium
mitre: [T1562.007]
status: stable
description: >
  Detects AuthorizeDBSecurityGroupIngress calls, which let a CIDR range or an EC2 security group
  reach databases that use a (legacy, EC2-Classic) DB security group. The whole Internet is
  high; a public range medium; an EC2 security group or private range low.
false_positives: >
  Administrators of old EC2-Classic databases adding application servers.
triage:
  - Check which databases use the DB security group (`aws rds describe-db-instances`).
  - Confirm with the database owner; revoke unexpected ranges.
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_AuthorizeDBSecurityGroupIngress.html
*/
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
    request_parameters->>'$.dBSecurityGroupName' as resource,
    event_id,
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
