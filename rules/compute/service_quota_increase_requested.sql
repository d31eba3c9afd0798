/*
id: service_quota_increase_requested
title: Service quota increase requested
severity: medium
mitre: [T1496]
status: stable
description: >
  Detects RequestServiceQuotaIncrease. Attackers who hijack an account for mining or model
  training hit the default limits (EC2 vCPUs for GPU families, Lambda concurrency, SES sending)
  and ask for more. High when the quota is for EC2 (vCPU limits) or SES sending, or when the
  principal never requested an increase before in the data.
false_positives: >
  Capacity planning by the platform team; increases requested through support cases before a
  launch.
triage:
  - Check the quota and the value asked for (details) and whether the principal launched compute before or after.
  - Cancel the request if nobody planned it (Service Quotas console, request history).
  - Review the principal's launches and the instances running in every region.
references:
  - https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_RequestServiceQuotaIncrease.html
  - https://attack.mitre.org/techniques/T1496/
*/
select
    q.event_id,
    concat(q.request_parameters->>'$.serviceCode', ' ', q.request_parameters->>'$.quotaCode') as resource,
    concat(q.attempt, 'quota increase requested: ', coalesce(q.request_parameters->>'$.serviceCode', '?'), ' ',
           coalesce(q.response_elements->>'$.requestedQuota.quotaName', q.request_parameters->>'$.quotaCode', '?'),
           ' to ', coalesce(q.request_parameters->>'$.desiredValue', '?')) as summary,
    {'service_code': q.request_parameters->>'$.serviceCode', 'quota_code': q.request_parameters->>'$.quotaCode',
     'quota_name': q.response_elements->>'$.requestedQuota.quotaName',
     'desired_value': q.request_parameters->>'$.desiredValue', 'user_agent': q.user_agent} as details,
    case when q.request_parameters->>'$.serviceCode' in ('ec2', 'ses', 'sagemaker', 'bedrock')
           or not exists (select 1 from compute_history as h
                          where h.principal = q.principal and h.event_name = 'RequestServiceQuotaIncrease'
                            and h.event_time < q.event_time)
         then 'high' end as severity
from compute_events as q
where q.event_source = 'servicequotas.amazonaws.com' and q.event_name = 'RequestServiceQuotaIncrease'
