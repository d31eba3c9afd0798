/*
id: security_group_created
title: Security group created
severity: info
mitre: [T1562.007]
status: stable
description: >
  Detects CreateSecurityGroup calls. A new group is where an attacker puts permissive rules
  before attaching it to an instance, so it is context for the exposure findings rather than a
  finding on its own.
false_positives: >
  Every deployment that creates groups (infrastructure as code, EKS, load balancers).
triage:
  - Look for rules added to the new group (security_group_opened_to_internet) and instances launched into it.
  - Check whether the actor normally creates network resources.
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html
  - https://attack.mitre.org/techniques/T1070/
*/
select
    coalesce(response_elements->>'$.groupId', request_parameters->>'$.groupName') as resource,
    event_id,
    concat('created security group ', coalesce(request_parameters->>'$.groupName', '?'),
           coalesce(' (' || (response_elements->>'$.groupId') || ')', ''),
           ' in ', coalesce(request_parameters->>'$.vpcId', 'the default VPC')) as summary,
    {'group_name': request_parameters->>'$.groupName', 'vpc_id': request_parameters->>'$.vpcId',
     'description': request_parameters->>'$.groupDescription', 'user_agent': user_agent,
     'error_message': error_message} as details
from scoped_events
where event_source = 'ec2.amazonaws.com'
  and event_name = 'CreateSecurityGroup'
