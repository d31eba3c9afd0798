/*
id: identity_center_access_granted
title: IAM Identity Center permission set changed or account access assigned
severity: medium
mitre: [T1098.003]
status: stable
description: >
  Detects IAM Identity Center (SSO) changes that grant access to accounts:
  CreateAccountAssignment, CreatePermissionSet, PutInlinePolicyToPermissionSet,
  AttachManagedPolicyToPermissionSet, AttachCustomerManagedPolicyReferenceToPermissionSet,
  DeletePermissionsBoundaryFromPermissionSet and ProvisionPermissionSet. Whoever controls
  Identity Center can give any user an administrator role in every member account. High when
  AdministratorAccess is attached, or a user or group
  is assigned to an account; medium for other permission set changes.
false_positives: >
  Identity administrators granting access through their usual process, often by
  infrastructure-as-code.
triage:
  - Check which permission set, account and user or group the change concerns (details).
  - Confirm with the identity team; remove the assignment if unplanned.
  - Review sign-ins of the user or group assigned since the change.
references:
  - https://docs.aws.amazon.com/singlesignon/latest/userguide/logging-using-cloudtrail.html
  - https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html
  - https://attack.mitre.org/techniques/T1098/003/
*/
select
    event_id,
    coalesce(request_parameters->>'$.permissionSetArn', request_parameters->>'$.name', '(not recorded)') as resource,
    concat(attempt, event_name,
           coalesce(' ' || (request_parameters->>'$.managedPolicyArn'), ''),
           coalesce(' for ' || (request_parameters->>'$.principalType') || ' ' || (request_parameters->>'$.principalId'), ''),
           coalesce(' in account ' || (request_parameters->>'$.targetId'), ''),
           coalesce(' (permission set ' || coalesce(request_parameters->>'$.permissionSetArn', request_parameters->>'$.name') || ')', '')) as summary,
    {'permission_set': request_parameters->>'$.permissionSetArn', 'managed_policy': request_parameters->>'$.managedPolicyArn',
     'principal_type': request_parameters->>'$.principalType', 'principal_id': request_parameters->>'$.principalId',
     'target_account': request_parameters->>'$.targetId', 'user_agent': user_agent} as details,
    case when event_name = 'CreateAccountAssignment'
           or request_parameters->>'$.managedPolicyArn' like '%/AdministratorAccess'
         then 'high' end as severity
from compute_events
where event_source = 'sso.amazonaws.com'
  and event_name in ('CreateAccountAssignment', 'CreatePermissionSet', 'PutInlinePolicyToPermissionSet',
                     'AttachManagedPolicyToPermissionSet', 'AttachCustomerManagedPolicyReferenceToPermissionSet',
                     'DeletePermissionsBoundaryFromPermissionSet', 'ProvisionPermissionSet')
