/*
id: mfa_device_deactivated
title: MFA device deactivated or deleted
severity: medium
mitre: [T1556.006]
status: stable
description: >
  Detects DeactivateMFADevice and DeleteVirtualMFADevice. Removing a user's MFA leaves only the
  password between an attacker and the console; attackers do it before registering their own
  device. Root's MFA is reported as high, a user's own device as low (device replacement).
false_positives: >
  Users replacing a lost or new phone (deactivate, delete, then create and enable a new device).
triage:
  - Check whether a new MFA device was enabled for the same user soon after (EnableMFADevice).
  - Ask the user; if they did not do it, reset their password and re-register MFA.
references:
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeactivateMFADevice.html
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteVirtualMFADevice.html
  - https://attack.mitre.org/techniques/T1556/006/
*/
select
    event_id,
    coalesce(request_parameters->>'$.serialNumber', 'user/' || target_user, '(not recorded)') as resource,
    case
        when user_type = 'Root'
          or coalesce(request_parameters->>'$.serialNumber' like '%:mfa/root-account-mfa-device', false)
            then 'high'
        when targets_other_user then null
        when event_name = 'DeactivateMFADevice' then 'low'
    end as severity,
    concat(coalesce(actor, '?'), case when error_code is null then ' ran ' else ' tried ' end, event_name,
           ' on ', coalesce(request_parameters->>'$.serialNumber', 'user ' || target_user, 'an unrecorded device')) as summary,
    {'target_user': target_user, 'serial_number': request_parameters->>'$.serialNumber',
     'caller_type': user_type, 'user_agent': user_agent} as details
from iam_events
where event_name in ('DeactivateMFADevice', 'DeleteVirtualMFADevice')
