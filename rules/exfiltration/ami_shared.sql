/*
id: ami_shared
title: AMI shared with another account or made public
severity: high
mitre: [T1537]
status: stable
description: >
  Detects ModifyImageAttribute calls that add launchPermission for another account, an
  organisation or organisational unit (medium), or everyone (group "all", critical). An AMI
  carries its snapshots: whoever can launch it can read the disk, including keys and credentials
  baked into the image.
false_positives: >
  Images published on purpose (marketplace, community AMIs) or shared with your own accounts or
  organisation.
triage:
  - Check whether the accounts or organisation in the summary are yours.
  - 'Remove the permission: `aws ec2 modify-image-attribute --image-id ID --launch-permission "Remove=[{UserId=ACCOUNT}]"` and check `aws ec2 describe-image-attribute --attribute launchPermission`.'
  - Look for CreateImage shortly before by the same caller.
references:
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyImageAttribute.html
  - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-explicit.html
  - https://attack.mitre.org/techniques/T1537/
*/
select
    event_id,
    share_resource as resource,
    share_severity as severity,
    share_summary as summary,
    share_details as details
from exfiltration_shares
where event_name = 'ModifyImageAttribute'
  and is_share
