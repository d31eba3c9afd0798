/*
id: user_added_to_privileged_group
title: User added to an administrative group
severity: high
mitre: [T1098.003]
status: stable
description: >
  Detects AddUserToGroup where the group has an admin-equivalent policy somewhere in this case
  (high), or only a name that looks administrative such as admins or PowerUsers (medium). Group
  membership gives the user every right of the group without any policy change on the user itself.
false_positives: >
  Onboarding of new administrators.
triage:
  - Confirm the user should be an administrator.
  - Check when the user was created and by whom; a new user added to an admin group is a backdoor.
  - If unexpected, remove the user from the group (RemoveUserFromGroup).
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddUserToGroup.html
  - https://attack.mitre.org/techniques/T1098/003/
python: find_privileged_group_additions
*/
-- Candidates: every AddUserToGroup; find_privileged_group_additions keeps the administrative groups.
select
    event_id,
    recipient_account_id as account_id,
    target_user,
    target_group
from iam_events
where event_name = 'AddUserToGroup'
