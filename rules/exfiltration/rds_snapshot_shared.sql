/*
id: rds_snapshot_shared
title: RDS snapshot shared with another account or made public
severity: high
mitre: [T1537]
status: stable
description: >
  Detects ModifyDBSnapshotAttribute and ModifyDBClusterSnapshotAttribute calls that add accounts
  to the restore attribute (valuesToAdd), or "all" (public, critical). The receiving account can
  restore the whole database from the snapshot.
false_positives: >
  Snapshots shared with your own backup or analytics accounts.
triage:
  - Check whether the account ids in the summary belong to your organisation.
  - 'Remove the share: `aws rds modify-db-snapshot-attribute --db-snapshot-identifier ID --attribute-name restore --values-to-remove ACCOUNT`.'
  - Look for CreateDBSnapshot or CopyDBSnapshot by the same caller just before.
references:
  - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html
  - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html
  - https://attack.mitre.org/techniques/T1537/
*/
select
    event_id,
    share_resource as resource,
    share_severity as severity,
    share_summary as summary,
    share_details as details
from exfiltration_shares
where event_name in ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
  and is_share
