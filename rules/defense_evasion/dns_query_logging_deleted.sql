/*
id: dns_query_logging_deleted
title: Route 53 Resolver DNS query logging deleted or detached
severity: medium
mitre: [T1562.008]
status: stable
description: >
  Detects DeleteResolverQueryLogConfig and DisassociateResolverQueryLogConfig. DNS query logs
  show which domains instances look up (command-and-control, exfiltration over DNS); removing
  them hides that traffic.
false_positives: >
  VPCs being decommissioned; query logging moved to a new configuration.
triage:
  - Check whether the VPCs still have a query logging configuration.
  - Confirm with the network owner and restore logging if unexpected.
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html
  - https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs.html
*/
select
    coalesce(nullif(coalesce(request_parameters->>'$.resolverQueryLogConfigId', '') ||
        case when request_parameters->>'$.resourceId' is not null
             then ' on ' || (request_parameters->>'$.resourceId') else '' end, ''),
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    evasion_attempt(error_code) ||
    concat(event_name, ' ', coalesce(request_parameters->>'$.resolverQueryLogConfigId', '(not recorded)'),
           case when request_parameters->>'$.resourceId' is not null
                then ' from ' || (request_parameters->>'$.resourceId') else '' end,
           case when response_elements->>'$.resolverQueryLogConfig.destinationArn' is not null
                then ' (logs went to ' || (response_elements->>'$.resolverQueryLogConfig.destinationArn') || ')'
                else '' end) as summary,
    {'destination': response_elements->>'$.resolverQueryLogConfig.destinationArn',
     'config_name': response_elements->>'$.resolverQueryLogConfig.name', 'user_agent': user_agent} as details
from scoped_events
where event_source = 'route53resolver.amazonaws.com'
  and event_name in ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig')
