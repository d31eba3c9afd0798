/*
id: secrets_batch_read_by_filter
title: Secrets read in bulk by filter (BatchGetSecretValue)
severity: medium
mitre: [T1555.006]
status: stable
description: >
  Detects BatchGetSecretValue calls that select secrets by filter instead of naming them
  (secretIdList), one finding per caller and filter for calls close together (pages). One call
  returns the values of up to 20 matching secrets and its record names only the filter; a filter
  whose values are all negated (e.g. tag-key "!NoSuchTag") matches every secret and is reported as
  high.
false_positives: >
  Applications that load their configuration by tag or name prefix at start-up.
triage:
  - 'Read the filter in the summary: what would it match in this account and region (`aws secretsmanager list-secrets --filters ...`)?'
  - Check whether the caller normally reads secrets this way; rotate the matching secrets if not.
references:
  - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html
  - https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html
  - https://attack.mitre.org/techniques/T1555/006/
*/
with calls as (
    select
        *,
        (request_parameters->'$.filters')::varchar as filters,
        len(list_filter(json_extract_string(request_parameters, '$.filters[*].values[*]'),
                        lambda v: not starts_with(v, '!'))) = 0 as matches_every_secret
    from scoped_events
    where event_source = 'secretsmanager.amazonaws.com'
      and event_name = 'BatchGetSecretValue'
      and coalesce(json_array_length(request_parameters->'$.secretIdList'), 0) = 0
      and coalesce(json_array_length(request_parameters->'$.filters'), 0) > 0
),
-- Pages of one listing (nextToken) and repeats of the same filter close together are one finding.
runs as (
    select
        *,
        sum(case when gap is null or gap > to_minutes(getvariable('secret_read_minutes')::bigint) then 1 else 0 end)
            over (partition by actor, recipient_account_id, aws_region, filters order by event_time, event_id
                  rows between unbounded preceding and current row) as run
    from (
        select
            *,
            event_time - lag(event_time) over (partition by actor, recipient_account_id, aws_region, filters
                                               order by event_time, event_id) as gap
        from calls
    )
)
select
    arg_min(event_id, (event_time, event_id)) as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    concat('secrets matching ', filters) as resource,
    string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
    case when bool_and(error_code is not null) then min(error_code) end as error_code,
    case when bool_and(matches_every_secret) then 'high' end as severity,
    concat(count(*), ' BatchGetSecretValue call(s) selecting secrets by filter ', filters,
           case when bool_and(matches_every_secret) then ' (matches every secret)' else '' end,
           case when count(error_code) > 0 then concat(', ', count(error_code), ' of them denied or failed') else '' end) as summary,
    {'calls': count(*), 'failed_calls': count(error_code),
     'filters': arg_min(request_parameters->'$.filters', (event_time, event_id)),
     'matches_every_secret': bool_and(matches_every_secret),
     'user_agents': list(distinct user_agent order by user_agent)[:5]} as details
from runs
group by actor, recipient_account_id, aws_region, filters, run
