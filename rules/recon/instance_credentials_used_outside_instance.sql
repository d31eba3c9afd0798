/*
id: instance_credentials_used_outside_instance
title: EC2 instance-role credentials used from outside the instance
severity: high
mitre: [T1552.005, T1078.004]
status: stable
description: >
  Detects calls made with an EC2 instance's role credentials (a session named after the instance
  id, arn ...:assumed-role/ROLE/i-...) from a public address that the data does not show to be
  that instance's, or through another account's VPC endpoint. Credentials taken from the instance
  metadata service (an SSRF, a compromised host) and used elsewhere look exactly like this. One
  finding per role and source IP; an IP used by several instances (recon_shared_egress_instances)
  looks like a NAT gateway and is low.
false_positives: >
  Instances in a public subnet or behind a NAT gateway calling AWS over the Internet when the
  trail holds no record showing that address (no SSM agent traffic, no Elastic IP association);
  instance credentials copied deliberately to a build or admin machine.
triage:
  - Check whether the source IP is the instance's public or Elastic IP or the VPC's NAT gateway (`aws ec2 describe-instances --instance-ids ID`, `aws ec2 describe-nat-gateways`).
  - If not, revoke the role's active sessions (an inline deny on aws:TokenIssueTime) and require IMDSv2 on the instance; details.imds_delivery 1.0 means the credentials came through IMDSv1.
  - Look for the way in on the instance (web server logs for requests to 169.254.169.254).
references:
  - https://attack.mitre.org/techniques/T1552/005/
  - https://attack.mitre.org/techniques/T1078/004/
*/
select
    arg_min(event_name, (event_time, event_id)) as event_name,
    role_arn as resource,
    string_agg(distinct identity, ', ' order by identity) as actor,
    case when count(distinct aws_region) = 1 then min(aws_region)
         else concat(count(distinct aws_region), ' regions') end as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    case when count(*) filter (where error_code is null) = 0 then mode(error_code) end as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    case when max(instances_from_ip) >= getvariable('recon_shared_egress_instances') then 'low' end as severity,
    concat('credentials of instance(s) ', string_agg(distinct instance_id, ', ' order by instance_id), ' used from ',
           coalesce(source_ip, '?'),
           case when bool_or(from_foreign_vpc_endpoint) then ' through another account''s VPC endpoint' else '' end,
           ': ', count(*), ' call(s) of ', count(distinct event_name), ' action(s) (',
           array_to_string(list(distinct event_name order by event_name)[:4], ', '),
           case when count(distinct event_name) > 4 then ', ...' else '' end, ')',
           case when count(*) filter (where error_code is not null) > 0
                then concat(', ', count(*) filter (where error_code is not null), ' failed') else '' end) as summary,
    {'instances': list(distinct instance_id order by instance_id),
     'actions': list(distinct concat(split_part(event_source, '.', 1), ':', event_name) order by concat(split_part(event_source, '.', 1), ':', event_name))[:60],
     'calls': count(*),
     'failed_calls': count(*) filter (where error_code is not null),
     'access_keys': list(distinct access_key_id order by access_key_id),
     'imds_delivery': list(distinct ec2_role_delivery order by ec2_role_delivery),
     'vpc_endpoints': list(distinct vpc_endpoint_id order by vpc_endpoint_id),
     'instances_seen_from_this_ip': max(instances_from_ip),
     'user_agents': list(distinct user_agent order by user_agent)[:5]} as details
from recon_instance_outside_calls
group by recipient_account_id, role_arn, source_ip
