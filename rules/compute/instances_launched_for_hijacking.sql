/*
id: instances_launched_for_hijacking
title: GPU, very large or many EC2 instances requested, or instances in an unused region
severity: high
mitre: [T1496, T1578.002]
status: stable
description: >
  Detects RunInstances, RequestSpotInstances, RequestSpotFleet and CreateFleet calls that ask
  for GPU or accelerator instance types (p, g, inf, trn, dl, vt, f families), very large sizes
  (12xlarge and above, metal), at least run_instances_count instances in one call (high), or
  instances in a region where the account had no earlier activity in the data, or a first spot
  or fleet request by the principal (medium). Stolen keys are most often used to mine
  cryptocurrency or run models on the victim's bill; attackers pick big instances and quiet
  regions. Denied calls and calls refused by a vCPU limit are reported as attempts: the intent
  is the same.
false_positives: >
  Machine-learning and rendering teams that launch GPU instances; batch platforms that request
  fleets; expansion to a new region. Compare with the principal's earlier launches.
triage:
  - Check the instance types, counts and regions in details; list running instances in every region (aws ec2 describe-instances --region ...).
  - Terminate instances nobody owns and revoke the principal's credentials if the launch was not planned.
  - Look for quota increase requests and key pairs or security groups created by the same principal.
references:
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
  - https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ec2-launch-unusual-instances/
  - https://attack.mitre.org/techniques/T1496/
*/
with launches as (
    select
        *,
        lower(coalesce(request_parameters->>'$.instanceType.value',  -- instances a fleet launches record {"value": type}
                       case when json_type(request_parameters, '$.instanceType') = 'VARCHAR'
                            then request_parameters->>'$.instanceType' end,
                       request_parameters->>'$.launchSpecification.instanceType',
                       request_parameters->>'$.spotFleetRequestConfig.launchSpecifications[0].instanceType',
                       request_parameters->>'$.CreateFleetRequest.LaunchTemplateConfigs.Overrides.InstanceType',
                       '')) as instance_type,
        coalesce(list_sum(list_transform(json_extract_string(request_parameters, '$.instancesSet.items[*].maxCount'),
                                         lambda v: try_cast(v as bigint))),
                 try_cast(request_parameters->>'$.instanceCount' as bigint),
                 try_cast(request_parameters->>'$.spotFleetRequestConfig.targetCapacity' as bigint),
                 try_cast(request_parameters->>'$.CreateFleetRequest.TargetCapacitySpecification.TotalTargetCapacity' as bigint),
                 1) as instance_count
    from compute_events
    where event_source = 'ec2.amazonaws.com'
      and event_name in ('RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet')
),
region_history as (
    -- when each account was first seen in each region, and at all, in ALL the loaded data
    -- (launch requests themselves left out, so a launch cannot make its own region "used")
    select
        recipient_account_id,
        aws_region,
        min(event_time) as first_in_region,
        min(min(event_time)) over (partition by recipient_account_id) as first_in_account
    from events
    where event_name not in ('RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet')
    group by recipient_account_id, aws_region
),
account_history as (
    select distinct recipient_account_id, first_in_account from region_history
),
judged as (
    select
        l.*,
        regexp_matches(l.instance_type, '^(p[0-9]|g[0-9]|gr[0-9]|inf[0-9]|trn[0-9]|dl[0-9]|vt[0-9]|f[0-9])') as accelerated,
        regexp_matches(l.instance_type, '\.(metal.*|(1[2-9]|[2-9][0-9]|[0-9]{3})xlarge)$') as very_large,
        l.instance_count >= getvariable('run_instances_count') as many,
        coalesce(a.first_in_account < l.event_time - to_days(getvariable('baseline_days')::bigint), false) as account_has_history,
        coalesce(r.first_in_region >= l.event_time, true) as new_region,
        l.event_name <> 'RunInstances' and not exists (
            select 1 from compute_history as h
            where h.principal = l.principal and h.event_source = l.event_source and h.event_name = l.event_name
              and h.event_time < l.event_time) as first_fleet
    from launches as l
    left join account_history as a on a.recipient_account_id = l.recipient_account_id
    left join region_history as r on r.recipient_account_id = l.recipient_account_id and r.aws_region = l.aws_region
),
reasoned as (
    select
        *,
        list_filter([case when accelerated then concat('GPU/accelerator type ', instance_type) end,
                     case when very_large then concat('very large type ', instance_type) end,
                     case when many then concat(instance_count, ' instances in one request') end,
                     case when new_region and account_has_history then concat('region ', aws_region, ' not used before by the account') end,
                     case when first_fleet then concat('first ', event_name, ' by this principal') end],
                    lambda r: r is not null) as reasons
    from judged
)
select
    event_id,
    concat(aws_region, ' ', coalesce(nullif(instance_type, ''), '(type not recorded)')) as resource,
    concat(attempt, event_name, ' for ', instance_count, ' x ', coalesce(nullif(instance_type, ''), '(type not recorded)'),
           ' in ', aws_region, ': ', array_to_string(reasons, '; ')) as summary,
    {'instance_type': instance_type, 'instance_count': instance_count, 'reasons': reasons,
     'image': request_parameters->>'$.instancesSet.items[0].imageId', 'user_agent': user_agent} as details,
    case when accelerated or very_large or many then null else 'medium' end as severity
from reasoned
where len(reasons) > 0
