/*
id: vpc_flow_logs_deleted
title: VPC flow logs deleted
severity: medium
mitre: [T1562.008]
status: stable
description: >
  Detects DeleteFlowLogs. Flow logs record network connections to and from instances; deleting
  them hides exfiltration and command-and-control traffic.
false_positives: >
  VPCs being torn down; flow logs replaced by new ones with another destination.
triage:
  - Check whether the VPC or subnet still has another flow log.
  - Confirm with the network owner; recreate the flow log if unexpected.
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html
  - https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs.html
*/
with calls as (
    select
        *,
        case when json_type(request_parameters, '$.DeleteFlowLogsRequest.FlowLogId') = 'ARRAY'
             then json_extract_string(request_parameters, '$.DeleteFlowLogsRequest.FlowLogId[*].content')
             else [coalesce(request_parameters->>'$.DeleteFlowLogsRequest.FlowLogId.content',
                            request_parameters->>'$.DeleteFlowLogsRequest.FlowLogId')] end as flow_log_ids
    from scoped_events
    where event_source = 'ec2.amazonaws.com'
      and event_name = 'DeleteFlowLogs'
)
select
    coalesce(nullif(array_to_string(list_filter(flow_log_ids, lambda f: f is not null), ', '), ''),
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    evasion_attempt(error_code) ||
    concat('DeleteFlowLogs for ', coalesce(nullif(array_to_string(list_filter(flow_log_ids, lambda f: f is not null), ', '), ''),
           '(not recorded)'), ' in ', aws_region) as summary,
    {'flow_log_ids': flow_log_ids,
     'unsuccessful': response_elements->'$.DeleteFlowLogsResponse.unsuccessful',
     'user_agent': user_agent} as details
from calls
