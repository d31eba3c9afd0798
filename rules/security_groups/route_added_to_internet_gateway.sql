/*
id: route_added_to_internet_gateway
title: Default route to an internet gateway added
severity: medium
mitre: [T1562.007]
status: stable
description: >
  Detects CreateRoute and ReplaceRoute calls that send 0.0.0.0/0 or ::/0 to an internet gateway
  (gatewayId igw-...). That makes every subnet using the route table public: instances with
  public addresses become reachable from the Internet and can send data straight out, bypassing
  NAT or inspection appliances.
false_positives: >
  Building a new VPC's public subnets.
triage:
  - Check which subnets use the route table (`aws ec2 describe-route-tables --route-table-ids RTB`).
  - Confirm with the network owner; if a private subnet became public, check its instances' security groups and public addresses.
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateRoute.html
  - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html
*/
select
    request_parameters->>'$.routeTableId' as resource,
    event_id,
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
