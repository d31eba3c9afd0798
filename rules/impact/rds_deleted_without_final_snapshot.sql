/*
id: rds_deleted_without_final_snapshot
title: RDS database deleted without a final snapshot, or its deletion protection removed
severity: high
mitre: [T1485, T1490]
status: stable
description: >
  Detects DeleteDBInstance and DeleteDBCluster with skipFinalSnapshot true or
  deleteAutomatedBackups true (high: the database and its restore points go together), and
  ModifyDBInstance/ModifyDBCluster turning deletionProtection off (medium; high when the same
  principal then deletes it). A deletion that keeps a final snapshot is not reported.
false_positives: >
  Tear-down of test or short-lived databases by infrastructure-as-code (which often sets
  skip_final_snapshot).
triage:
  - Check whether any snapshot of the database remains (aws rds describe-db-snapshots) and whether it was shared or deleted.
  - Confirm with the database owner; restore from a cross-region or cross-account copy if one exists.
  - Review the principal's other calls (snapshot sharing, other deletions).
references:
  - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html
  - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html
  - https://attack.mitre.org/techniques/T1485/
*/
with calls as (
    select
        *,
        coalesce(request_parameters->>'$.dBInstanceIdentifier', request_parameters->>'$.dBClusterIdentifier',
                 '(not recorded)') as database,
        lower(coalesce(request_parameters->>'$.skipFinalSnapshot', '')) = 'true' as skip_snapshot,
        lower(coalesce(request_parameters->>'$.deleteAutomatedBackups', '')) = 'true' as delete_backups,
        lower(coalesce(request_parameters->>'$.deletionProtection', '')) = 'false' as protection_off
    from impact_events
    where event_source = 'rds.amazonaws.com'
      and event_name in ('DeleteDBInstance', 'DeleteDBCluster', 'ModifyDBInstance', 'ModifyDBCluster')
)
select
    c.event_id,
    c.database as resource,
    concat(c.attempt, case when c.event_name like 'Delete%'
        then concat('database ', c.database, ' deleted',
                    case when c.skip_snapshot then ' without a final snapshot' else '' end,
                    case when c.delete_backups then ', automated backups deleted with it' else '' end)
        else concat('deletion protection of database ', c.database, ' turned off',
                    case when d.event_id is not null then ', then deleted' else '' end) end) as summary,
    {'skip_final_snapshot': c.skip_snapshot, 'delete_automated_backups': c.delete_backups,
     'deleted_after': d.event_id, 'user_agent': c.user_agent} as details,
    case when c.event_name like 'Modify%' and d.event_id is null then 'medium' end as severity
from calls as c
left join (
    select principal, database, min(event_time) as event_time, min(event_id) as event_id
    from calls where event_name like 'Delete%' group by principal, database
) as d
  on c.event_name like 'Modify%' and d.principal = c.principal and d.database = c.database
 and d.event_time >= c.event_time
where (c.event_name like 'Delete%' and (c.skip_snapshot or c.delete_backups))
   or (c.event_name like 'Modify%' and c.protection_off)
