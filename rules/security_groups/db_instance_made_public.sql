/*
id: db_instance_made_public
title: RDS database made publicly accessible
severity: medium
mitre: [T1133]
status: stable
description: >
  Detects RDS instances and clusters modified with publiclyAccessible true, and ones created,
  restored or replicated as publicly accessible (request or response). A public database gets an
  Internet-resolvable address; with a permissive security group anyone can reach its login.
  Attackers do this to copy data out or to keep access.
false_positives: >
  Databases meant to be reached from outside AWS (reporting tools, development instances).
triage:
  - Check the database's security groups for rules open to the Internet or to unknown ranges.
  - Confirm with the database owner; if unexpected, set publiclyAccessible false and review database logins since the change.
references:
  - https://attack.mitre.org/techniques/T1133/
  - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
  - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html
  - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html
*/
select
    coalesce(request_parameters->>'$.dBInstanceIdentifier', request_parameters->>'$.dBClusterIdentifier',
             response_elements->>'$.dBInstanceIdentifier', response_elements->>'$.dBClusterIdentifier') as resource,
    event_id,
    concat(coalesce(request_parameters->>'$.dBInstanceIdentifier', request_parameters->>'$.dBClusterIdentifier',
                    response_elements->>'$.dBInstanceIdentifier', response_elements->>'$.dBClusterIdentifier', '?'),
           ' made publicly accessible (', event_name, ')') as summary,
    {'security_groups': request_parameters->'$.vPCSecurityGroupIds',
     'apply_immediately': request_parameters->>'$.applyImmediately',
     'source_snapshot': coalesce(request_parameters->>'$.dBSnapshotIdentifier',
                                 request_parameters->>'$.snapshotIdentifier'),
     'user_agent': user_agent, 'error_message': error_message} as details
from scoped_events
where event_source = 'rds.amazonaws.com'
  and event_name in ('ModifyDBInstance', 'ModifyDBCluster', 'CreateDBInstance', 'CreateDBCluster',
                     'CreateDBInstanceReadReplica', 'RestoreDBInstanceFromDBSnapshot',
                     'RestoreDBInstanceToPointInTime', 'RestoreDBInstanceFromS3',
                     'RestoreDBClusterFromSnapshot', 'RestoreDBClusterToPointInTime',
                     'RestoreDBClusterFromS3')
  and (lower(request_parameters->>'$.publiclyAccessible') = 'true'
       -- a modify call's response shows the current setting, not the change
       or (event_name not like 'Modify%'
           and lower(response_elements->>'$.publiclyAccessible') = 'true'))
