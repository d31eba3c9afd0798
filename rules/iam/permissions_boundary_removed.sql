/*
id: permissions_boundary_removed
title: Permissions boundary removed from a user or role
severity: high
mitre: [T1098.003, T1548]
status: stable
description: >
  Detects DeleteUserPermissionsBoundary and DeleteRolePermissionsBoundary. A permissions boundary
  caps what a user or role can do whatever its policies say; removing it releases every permission
  its policies grant, a known escalation path.
false_positives: >
  Administrators restructuring delegated administration.
triage:
  - Check which boundary was in place (the last Put*PermissionsBoundary for the target).
  - Review what the target did after the removal; put the boundary back if unexpected.
references:
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
  - https://attack.mitre.org/techniques/T1098/003/
  - https://attack.mitre.org/techniques/T1548/
*/
select
    event_id,
    coalesce('user/' || target_user, 'role/' || target_role, '(not recorded)') as resource,
    concat(coalesce(actor, '?'), case when error_code is null then ' removed' else ' tried to remove' end,
           ' the permissions boundary of ',
           coalesce('user ' || target_user, 'role ' || target_role, 'an unrecorded target')) as summary,
    {'caller_type': user_type, 'user_agent': user_agent} as details
from iam_events
where event_name in ('DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary')
