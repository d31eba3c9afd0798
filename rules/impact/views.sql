-- Shared views of the impact area (destruction, ransomware, inhibited recovery).
--
-- impact_events: the events in the window, with (each rule names the calls it reads: a filter
-- on event_source and event_name is pushed into the scan of events, where one broad filter
-- here would cost a pass over every event for every rule)
--   principal   who acted, for grouping and baselines: the role for role sessions (every
--               session of a role is the same principal), else the caller's ARN
--   by_service  true when AWS acted on its own behalf (lifecycle, Backup plans, Auto Scaling,
--               Data Lifecycle Manager): not a person's decision, left out of the bursts
--   attempt     'attempt, <errorCode>: ' for a failed call, '' otherwise (summaries start with it)
create or replace view impact_events as
select
    *,
    coalesce(nullif(session_issuer_arn, ''), nullif(user_arn, ''), actor) as principal,
    (user_type = 'AWSService'
     or invoked_by is not null
     or coalesce(session_issuer_name, '') like 'AWSServiceRole%'
     or coalesce(session_issuer_name, '') in ('AWSDataLifecycleManagerDefaultRole', 'AWSBackupDefaultServiceRole')
     or coalesce(principal_id, '') like '%:AutoScaling'
     or coalesce(principal_id, '') like '%:AWSBackup-%') as by_service,
    case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end as attempt
from scoped_events;

-- impact_s3: S3 calls with the bucket named, whatever shape the request took.
create or replace view impact_s3 as
select
    *,
    coalesce(request_parameters->>'$.bucketName',
             nullif(regexp_extract(request_parameters->>'$.Host', '^(.+)\.s3[.-]', 1), ''),
             '(unknown bucket)') as bucket
from impact_events
where event_source = 's3.amazonaws.com';

-- impact_deletions: one row per call that destroys a copy of data (snapshot, AMI, recovery
-- point, RDS snapshot) or an instance, with the number of things it destroyed (TerminateInstances
-- names several instances) and their ids. Service-made deletions are left out.
create or replace view impact_deletions as
select
    *,
    case
        when event_name = 'TerminateInstances' then 'instance'
        when event_name in ('DeleteRecoveryPoint', 'DisassociateRecoveryPoint') then 'recovery point'
        when event_name = 'DeregisterImage' then 'AMI'
        when event_name = 'DeleteSnapshot' then 'EBS snapshot'
        when event_name in ('DeleteDBInstanceAutomatedBackup', 'DeleteDBClusterAutomatedBackup') then 'RDS automated backup'
        else 'RDS snapshot'
    end as kind,
    case when event_name = 'TerminateInstances'
         then list_filter(json_extract_string(request_parameters, '$.instancesSet.items[*].instanceId'),
                          lambda v: v is not null)
         else [coalesce(request_parameters->>'$.snapshotId', request_parameters->>'$.imageId',
                        request_parameters->>'$.recoveryPointArn', request_parameters->>'$.dBSnapshotIdentifier',
                        request_parameters->>'$.dBClusterSnapshotIdentifier',
                        request_parameters->>'$.dbiResourceId', request_parameters->>'$.dbClusterResourceId',
                        '(not recorded)')] end as targets
from impact_events
where not by_service
  and event_source in ('ec2.amazonaws.com', 'rds.amazonaws.com', 'backup.amazonaws.com')
  and event_name in ('TerminateInstances', 'DeleteRecoveryPoint', 'DisassociateRecoveryPoint', 'DeregisterImage',
                     'DeleteSnapshot', 'DeleteDBSnapshot', 'DeleteDBClusterSnapshot',
                     'DeleteDBInstanceAutomatedBackup', 'DeleteDBClusterAutomatedBackup');
