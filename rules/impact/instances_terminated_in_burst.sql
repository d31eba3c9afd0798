/*
id: instances_terminated_in_burst
title: Many EC2 instances terminated by one principal
severity: high
mitre: [T1485, T1489]
status: stable
description: >
  Detects one principal terminating at least terminate_instance_count instances (counted from
  the instance ids of its TerminateInstances calls) with no pause longer than
  terminate_minutes between calls. Mass termination destroys instance-store data and root
  volumes set to delete on termination, and stops the services the instances ran. Termination
  by Auto Scaling and other AWS services is left out; a single planned termination is not
  reported.
false_positives: >
  Deployments that replace a fleet, tear-down of test environments, infrastructure-as-code
  destroy runs; compare with the principal's usual deployments.
triage:
  - Check which instances were terminated (details.instances) and which services they ran.
  - Check whether their volumes and snapshots still exist; look for snapshot or backup deletions by the same principal.
  - Confirm with the owner; if not planned, revoke the principal's credentials.
references:
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
  - https://attack.mitre.org/techniques/T1485/
  - https://attack.mitre.org/techniques/T1489/
*/
with calls as (
    select
        *,
        case when lag(event_time) over w is null
               or event_time - lag(event_time) over w > to_minutes(getvariable('terminate_minutes')::bigint)
             then 1 else 0 end as starts
    from impact_deletions
    where kind = 'instance'
    window w as (partition by principal order by event_time, event_id)
),
bursts as (
    select *, sum(starts) over (partition by principal order by event_time, event_id
                                rows between unbounded preceding and current row) as burst
    from calls
),
grouped as (
    select
        principal, burst,
        list(event_id order by event_time, event_id) as event_ids,
        list_distinct(flatten(list(targets order by event_time, event_id))) as instances,
        count(*) filter (where error_code is null) as succeeded,
        count(*) filter (where error_code is not null) as failed,
        min(event_time) as first_time, max(event_time) as last_time
    from bursts
    group by principal, burst
)
select
    event_ids[1] as event_id,
    event_ids,
    concat(len(instances), ' instance(s)') as resource,
    concat(case when succeeded = 0 then 'attempt: ' else '' end,
           len(instances), ' instance(s) terminated in ', len(event_ids), ' call(s) over ',
           greatest(1, date_diff('minute', first_time, last_time)), ' minute(s)',
           case when failed > 0 then concat(', ', failed, ' call(s) failed') else '' end) as summary,
    {'instances': list_sort(instances)[1:50], 'calls': len(event_ids), 'failed_calls': failed,
     'principal': principal} as details
from grouped
where len(instances) >= getvariable('terminate_instance_count')
