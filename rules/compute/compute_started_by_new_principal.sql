/*
id: compute_started_by_new_principal
title: Lambda, ECS, Batch or SageMaker compute started by a principal that never did before
severity: medium
mitre: [T1496, T1648]
status: stable
description: >
  Detects a principal creating serverless or container compute - Lambda CreateFunction, ECS
  RunTask/StartTask/CreateService/CreateCluster, Batch CreateComputeEnvironment/SubmitJob,
  SageMaker training, processing, notebook or endpoint creation - when the loaded data holds no
  earlier call of that kind by the same principal (the role for role sessions). Attackers with
  stolen keys run miners and models on whatever compute the keys allow; a stolen role session
  from a Lambda function or ECS task starting new compute is the same pattern. When the data
  holds less than baseline_days of the principal's history, everything looks new and the
  finding is low.
false_positives: >
  A new deployment pipeline or a team starting to use a service; the first run of a scheduled
  job inside the data.
triage:
  - Check what was started (details.what) and by which identity, from which IP and user agent.
  - Compare with the principal's earlier activity (analyze_actor.py); stop the compute if nobody owns it.
  - Look for roles passed to the new compute (iam:PassRole) and for quota increase requests.
references:
  - https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
  - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
  - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
  - https://attack.mitre.org/techniques/T1496/
*/
with starts as (
    select
        *,
        case event_source
            when 'lambda.amazonaws.com' then 'Lambda'
            when 'ecs.amazonaws.com' then 'ECS'
            when 'batch.amazonaws.com' then 'Batch'
            else 'SageMaker' end as service,
        coalesce(request_parameters->>'$.functionName', request_parameters->>'$.taskDefinition',
                 request_parameters->>'$.serviceName', request_parameters->>'$.clusterName',
                 request_parameters->>'$.computeEnvironmentName', request_parameters->>'$.jobName',
                 request_parameters->>'$.trainingJobName', request_parameters->>'$.processingJobName',
                 request_parameters->>'$.notebookInstanceName', request_parameters->>'$.endpointName',
                 '(not recorded)') as what
    from compute_events
    where (event_source = 'lambda.amazonaws.com' and event_name like 'CreateFunction%')
       or (event_source = 'ecs.amazonaws.com' and event_name in ('RunTask', 'StartTask', 'CreateService', 'CreateCluster'))
       or (event_source = 'batch.amazonaws.com' and event_name in ('CreateComputeEnvironment', 'SubmitJob'))
       or (event_source = 'sagemaker.amazonaws.com' and event_name in (
              'CreateTrainingJob', 'CreateProcessingJob', 'CreateNotebookInstance', 'CreateEndpoint',
              'CreateTransformJob', 'CreateHyperParameterTuningJob'))
),
first_use as (
    select s.*
    from starts as s
    where not exists (
        select 1 from compute_history as h
        where h.principal = s.principal and h.event_source = s.event_source and h.event_name = s.event_name
          and (h.event_time < s.event_time or (h.event_time = s.event_time and h.event_id < s.event_id)))
)
select
    f.event_id,
    concat(f.service, ' ', f.what) as resource,
    concat(f.attempt, 'first ', f.event_name, ' by ', f.principal, ' in the data: ', f.service, ' ', f.what) as summary,
    {'service': f.service, 'what': f.what, 'principal_first_seen': p.first_seen,
     'history_days': date_diff('day', p.first_seen, f.event_time), 'user_agent': f.user_agent} as details,
    case when date_diff('day', p.first_seen, f.event_time) < getvariable('baseline_days') then 'low' end as severity
from first_use as f
left join compute_principal_history as p on p.principal = f.principal
