/*
id: security_group_deleted
title: Security group deleted
severity: low
mitre: [T1562.007, T1070]
status: stable
description: >
  Detects DeleteSecurityGroup calls, with who created the group when that call is in the case.
  Attackers delete the groups they made to cover their tracks; deleting a group can also break
  the network controls that workloads rely on.
false_positives: >
  Teardown of environments by infrastructure-as-code tools.
triage:
  - Check who created the group and what rules it had (details.created_by, earlier Authorize calls).
  - If the same actor created, opened and deleted the group, treat it as clean-up after access.
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://attack.mitre.org/techniques/T1070/
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html
*/
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
        arg_min(actor, (event_time, event_id)) as created_by,
        min(event_time) as created_at,
        arg_min(event_id, (event_time, event_id)) as created_event_id
    from events
    where event_source = 'ec2.amazonaws.com'
      and event_name = 'CreateSecurityGroup'
      and error_code is null
    group by 1
)
select
    d.group_key as resource,
    d.event_id,
    case when c.created_event_id is not null and c.created_at <= d.event_time
         then [c.created_event_id, d.event_id] else [d.event_id] end as event_ids,
    concat('deleted security group ', coalesce(d.group_key, '?'),
           case when c.created_by is null then ''
                when c.created_by = d.actor then ' (created by the same actor)'
                else concat(' (created by ', c.created_by, ')') end) as summary,
    {'created_by': c.created_by, 'created_at': c.created_at, 'user_agent': d.user_agent,
     'error_message': d.error_message} as details
from deleted as d
left join created as c using (group_key)
