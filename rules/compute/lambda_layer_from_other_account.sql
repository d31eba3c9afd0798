/*
id: lambda_layer_from_other_account
title: Lambda function given a layer from another account
severity: high
mitre: [T1525, T1574]
status: stable
description: >
  Detects CreateFunction and UpdateFunctionConfiguration calls whose layers include a layer
  version ARN owned by another account. A layer's code runs inside the function (an extension
  runs beside every invocation and sees its events and credentials); a layer published by an
  outside account is code the account does not control. AWS-published layers (no account in
  the ARN, or account ids AWS uses for its own layers) still appear here: check the account.
false_positives: >
  Public layers from vendors (monitoring and security agents such as Datadog, New Relic,
  Lambda Insights) and from AWS; organisations publishing layers from a shared account.
triage:
  - Identify the account that owns the layer (details.foreign_layers) and whether it is a known vendor.
  - Download the layer (aws lambda get-layer-version-by-arn) and review it.
  - Remove the layer if unknown and check what the function's role could reach.
references:
  - https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html
  - https://docs.aws.amazon.com/lambda/latest/dg/lambda-extensions.html
  - https://attack.mitre.org/techniques/T1525/
*/
with calls as (
    select
        *,
        list_filter(list_concat(json_extract_string(request_parameters, '$.layers[*]'),
                                json_extract_string(request_parameters, '$.layers[*].arn')),
                    lambda l: l like 'arn:%:lambda:%:layer:%'
                          and split_part(l, ':', 5) <> ''
                          and split_part(l, ':', 5) is distinct from recipient_account_id) as foreign_layers
    from compute_events
    where event_source = 'lambda.amazonaws.com'
      and (event_name like 'CreateFunction%' or event_name like 'UpdateFunctionConfiguration%')
)
select
    event_id,
    concat('Lambda ', regexp_extract(coalesce(request_parameters->>'$.functionName', ''), '([^:]+)$', 1)) as resource,
    concat(attempt, 'Lambda function ', regexp_extract(coalesce(request_parameters->>'$.functionName', ''), '([^:]+)$', 1),
           ' given layer(s) of account(s) ',
           array_to_string(list_sort(list_distinct(list_transform(foreign_layers, lambda l: split_part(l, ':', 5)))), ', '),
           ': ', array_to_string(foreign_layers, ', ')) as summary,
    {'foreign_layers': foreign_layers, 'user_agent': user_agent} as details
from calls
where len(foreign_layers) > 0
