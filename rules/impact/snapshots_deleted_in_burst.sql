/*
id: snapshots_deleted_in_burst
title: Burst of snapshot, AMI or RDS backup deletions by one principal
severity: high
mitre: [T1490]
status: stable
description: >
  Detects one principal deleting at least snapshot_delete_count EBS snapshots, AMIs, RDS
  snapshots or RDS automated backups with no pause longer than snapshot_delete_minutes between
  deletions. Snapshots and images are the restore points of instances and databases; deleting
  them in bulk is how an attacker makes destruction or encryption permanent. Deletions by AWS
  services (Data Lifecycle Manager, AWS Backup, service-linked roles) are left out. A single
  planned deletion is not reported.
false_positives: >
  Clean-up scripts that prune old snapshots or AMIs under their own role; compare with the
  principal's earlier runs (same weekday and hour, same user agent).
triage:
  - Check what was deleted (details.targets) and whether copies remain in another region or account.
  - Confirm with the owner whether a clean-up job runs under this identity; if not, revoke its credentials.
  - Review the principal's other deletions (instances, volumes, KMS keys, backups).
references:
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSnapshot.html
  - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSnapshot.html
  - https://attack.mitre.org/techniques/T1490/
*/
with deletions as (
    select
        *,
        case when lag(event_time) over w is null
               or event_time - lag(event_time) over w > to_minutes(getvariable('snapshot_delete_minutes')::bigint)
             then 1 else 0 end as starts
    from impact_deletions
    where kind <> 'instance' and kind <> 'recovery point'
    window w as (partition by principal order by event_time, event_id)
),
bursts as (
    select *, sum(starts) over (partition by principal order by event_time, event_id
                                rows between unbounded preceding and current row) as burst
    from deletions
)
select
    list(event_id order by event_time, event_id)[1] as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    array_to_string(list(distinct kind order by kind), ', ') as resource,
    concat(case when count(*) filter (where error_code is null) = 0 then 'attempt: ' else '' end,
           count(*), ' deletion(s) of ', array_to_string(list(distinct kind order by kind), ', '),
           ' in ', greatest(1, date_diff('minute', min(event_time), max(event_time))), ' minute(s)',
           case when count(*) filter (where error_code is not null) > 0
                then concat(', ', count(*) filter (where error_code is not null), ' failed') else '' end) as summary,
    {'deletions': count(*), 'failed': count(*) filter (where error_code is not null),
     'targets': list(targets[1] order by event_time, event_id)[1:50], 'principal': principal} as details
from bursts
group by principal, burst
having count(*) >= getvariable('snapshot_delete_count')
