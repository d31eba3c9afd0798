/*
id: instance_user_data_modified
title: EC2 instance user data changed
severity: high
mitre: [T1059.009, T1037]
status: stable
description: >
  Detects ModifyInstanceAttribute calls that set an instance's user data. User data scripts run
  as root when the instance starts; an attacker who can stop an instance, replace its user data
  and start it again runs code on it without any login or network path. CloudTrail hides the
  script (<sensitiveDataRemoved>). The summary says whether the same principal stopped or
  started the instance around the change, the full pattern.
false_positives: >
  Administrators fixing a bootstrap script on a stopped instance; rare in automation, which
  usually replaces instances or launch templates instead.
triage:
  - Read the instance's current user data (aws ec2 describe-instance-attribute --attribute userData) and compare with its launch template.
  - Check whether the instance was restarted since, and what it did after (VPC flow logs, its role's calls).
  - Ask the instance's owner; restore the original user data.
references:
  - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ec2-user-data/
  - https://attack.mitre.org/techniques/T1059/009/
*/
with changes as (
    select *
    from compute_events
    where event_source = 'ec2.amazonaws.com' and event_name = 'ModifyInstanceAttribute'
      and ((request_parameters->'$.userData') is not null or request_parameters->>'$.attribute' = 'userData')
),
around as (
    -- StopInstances / StartInstances of the same instance by the same principal within an hour
    select
        m.event_id,
        list(distinct case o.event_name when 'StopInstances' then 'stopped' else 'started' end
             order by case o.event_name when 'StopInstances' then 'stopped' else 'started' end desc) as stop_start
    from changes as m
    join compute_events as o
      on o.principal = m.principal
     and o.event_source = 'ec2.amazonaws.com'
     and o.event_name in ('StopInstances', 'StartInstances')
     and o.event_time between m.event_time - interval 1 hour and m.event_time + interval 1 hour
     and list_contains(json_extract_string(o.request_parameters, '$.instancesSet.items[*].instanceId'),
                       m.request_parameters->>'$.instanceId')
    group by m.event_id
)
select
    m.event_id,
    m.request_parameters->>'$.instanceId' as resource,
    concat(m.attempt, 'user data of instance ', coalesce(m.request_parameters->>'$.instanceId', '?'), ' replaced',
           case when len(a.stop_start) > 0 then concat(', instance ', array_to_string(a.stop_start, ' and '),
                                                      ' by the same principal') else '' end) as summary,
    {'instance_id': m.request_parameters->>'$.instanceId', 'stop_start': coalesce(a.stop_start, []),
     'user_agent': m.user_agent} as details
from changes as m
left join around as a on a.event_id = m.event_id
