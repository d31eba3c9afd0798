/*
id: backup_recovery_points_deleted
title: AWS Backup vault, lock or recovery points deleted
severity: high
mitre: [T1490]
status: stable
description: >
  Detects a person (not AWS Backup's own lifecycle) deleting a backup vault, removing a vault's
  lock, or deleting at least backup_delete_count recovery points, and deleting backup plans or
  selections (medium). Removing backups before destroying or encrypting data is how ransomware
  groups make sure the victim cannot restore. A single recovery point deleted by hand is not
  reported; recovery points AWS Backup expires under a plan's lifecycle are made by the
  service and left out.
false_positives: >
  Decommissioning of a workload and its backups; clean-up of a test vault.
triage:
  - Check which vaults and recovery points are gone (details) and whether copies exist in another account or region.
  - Turn on AWS Backup Vault Lock (compliance mode) for the remaining vaults.
  - Review the principal's other calls: deletions of snapshots, KMS keys or data that follow.
references:
  - https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteRecoveryPoint.html
  - https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html
  - https://attack.mitre.org/techniques/T1490/
*/
with calls as (
    select
        *,
        coalesce(request_parameters->>'$.backupVaultName', request_parameters->>'$.backupPlanId',
                 request_parameters->>'$.recoveryPointArn', '(not recorded)') as target
    from impact_events
    where event_source = 'backup.amazonaws.com' and not by_service
      and event_name in ('DeleteBackupVault', 'DeleteRecoveryPoint', 'DeleteBackupPlan', 'DeleteBackupSelection',
                         'DeleteBackupVaultLockConfiguration', 'DisassociateRecoveryPoint')
),
per_principal as (
    select
        principal,
        list(event_id order by event_time, event_id) as event_ids,
        list(distinct event_name order by event_name) as actions,
        list(distinct target order by target) as targets,
        count(distinct target) filter (where event_name in ('DeleteRecoveryPoint', 'DisassociateRecoveryPoint')) as points,
        bool_or(event_name in ('DeleteBackupVault', 'DeleteBackupVaultLockConfiguration')) as vault_hit,
        count(*) filter (where error_code is null) as succeeded
    from calls
    group by principal
)
select
    event_ids[1] as event_id,
    event_ids,
    array_to_string(targets[1:5], ', ') as resource,
    concat(case when succeeded = 0 then 'attempt: ' else '' end,
           'AWS Backup deletions: ', array_to_string(actions, ', '),
           case when points > 0 then concat(' (', points, ' recovery point(s))') else '' end) as summary,
    {'actions': actions, 'targets': targets, 'recovery_points': points, 'principal': principal} as details,
    case when vault_hit or points >= getvariable('backup_delete_count') then null else 'medium' end as severity
from per_principal
where vault_hit
   or points >= getvariable('backup_delete_count')
   or list_has_any(actions, ['DeleteBackupPlan', 'DeleteBackupSelection'])
