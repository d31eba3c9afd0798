/*
id: ebs_snapshot_shared
title: EBS snapshot shared with another account or made public
severity: high
mitre: [T1537]
status: stable
description: >
  Detects ModifySnapshotAttribute calls that add createVolumePermission for another account
  (userId) or for everyone (group "all", critical). Whoever a snapshot is shared with can create a
  volume from it in their own account and read every file on the disk; attackers share snapshots
  to copy data out without downloading anything.
false_positives: >
  Backups or golden images shared with your own other accounts (disaster recovery, a central
  backup account); vendors given a disk image on purpose.
triage:
  - Check whether the account ids in the summary belong to your organisation.
  - 'Remove the permission: `aws ec2 modify-snapshot-attribute --snapshot-id ID --attribute createVolumePermission --operation-type remove --user-ids ACCOUNT` (or `--group-names all`).'
  - Review what else the caller did (CreateSnapshot just before is the usual pattern).
references:
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html
  - https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html
  - https://attack.mitre.org/techniques/T1537/
*/
select
    event_id,
    share_resource as resource,
    share_severity as severity,
    share_summary as summary,
    share_details as details
from exfiltration_shares
where event_name = 'ModifySnapshotAttribute'
  and is_share
