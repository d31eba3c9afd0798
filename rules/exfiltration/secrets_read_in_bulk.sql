/*
id: secrets_read_in_bulk
title: Many secrets read by one identity
severity: high
mitre: [T1555.006, T1555]
status: stable
description: >
  Detects an identity reading at least secret_read_distinct different secrets within
  secret_read_minutes (Secrets Manager GetSecretValue / BatchGetSecretValue, SSM GetParameter(s) /
  GetParametersByPath with decryption, EC2 GetPasswordData), or making at least secret_read_calls
  such calls (medium when only this count is reached). Denied reads count: an attacker with stolen
  credentials tries every secret, allowed or not. AWS services calling as themselves (user type
  AWSService) are left out. One finding per burst, with every event.
false_positives: >
  Applications or deployment pipelines that load many secrets at start-up; applications that do
  not cache a secret and read it on every request (calls threshold); AWS services acting for a
  user (invoked_by in details).
triage:
  - 'Compare with the identity''s usual behaviour: is it an application role or a person?'
  - List what was read (details.items) and rotate those secrets if the caller is not trusted.
  - Check the source IP and user agent against the identity's other calls (analyze_actor.py).
references:
  - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
  - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html
  - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetPasswordData.html
  - https://attack.mitre.org/techniques/T1555/006/
  - https://attack.mitre.org/techniques/T1555/
*/
-- Windows run on numbers only (hashes of caller, item and event id): sorting and
-- counting distinct strings over millions of reads is several times slower.
with named as (
    select
        event_time,
        caller,
        event_id,
        secret_kind,
        unnest(secret_names) as secret_name
    from exfiltration_secret_reads
    where event_time is not null
      and coalesce(user_type, '') <> 'AWSService'
),
items as (
    select
        event_time,
        hash(caller) as caller_key,
        hash(event_id) as call_key,
        hash(concat(secret_kind, ':', secret_name)) as item_key
    from named
),
measured as (
    select
        caller_key,
        event_time,
        count(distinct item_key) over recent as items_in_window,
        count(distinct call_key) over recent as calls_in_window
    from items
    window recent as (
        partition by caller_key
        order by event_time
        range between to_minutes(getvariable('secret_read_minutes')::bigint) preceding and current row
    )
),
-- A window that reaches a threshold is hot; hot windows that overlap form one burst.
hot as (
    select
        *,
        event_time - lag(event_time) over (partition by caller_key order by event_time) as gap
    from measured
    where items_in_window >= getvariable('secret_read_distinct')
       or calls_in_window >= getvariable('secret_read_calls')
),
bursts as (
    select
        caller_key,
        burst,
        min(event_time) - to_minutes(getvariable('secret_read_minutes')::bigint) as burst_start,
        max(event_time) as burst_end,
        max(items_in_window) as peak_items,
        max(calls_in_window) as peak_calls,
        arg_min(event_time, (-items_in_window, event_time)) as peak_at
    from (
        select
            *,
            sum(case when gap is null or gap > to_minutes(getvariable('secret_read_minutes')::bigint) then 1 else 0 end)
                over (partition by caller_key order by event_time rows between unbounded preceding and current row) as burst
        from hot
    )
    group by caller_key, burst
),
named_reads as (
    select
        r.*,
        b.burst,
        b.peak_items,
        b.peak_calls,
        b.peak_at,
        unnest(r.secret_names) as secret_name
    from exfiltration_secret_reads as r
    join bursts as b
      on hash(r.caller) = b.caller_key
     and r.event_time between b.burst_start and b.burst_end
    where coalesce(r.user_type, '') <> 'AWSService'
),
reads as (
    select
        *,
        concat(secret_kind, ':', secret_name) as item
    from named_reads
)
-- list(x order by x) inside list_sort(list_distinct(...)): the list has one order on both engines.
select
    arg_min(event_id, (event_time, event_id)) as event_id,
    list_transform(list_sort(list_distinct(list(struct_pack(t := event_time, id := event_id) order by event_time, event_id))),
                   lambda e: e.id) as event_ids,
    string_agg(distinct event_name, ', ' order by event_name) as event_name,
    concat(count(distinct item), ' ', string_agg(distinct secret_kind || 's', ' and ' order by secret_kind || 's'), ': ',
           array_to_string(list_sort(list_distinct(list(secret_name order by secret_name)))[:3], ', '),
           case when count(distinct secret_name) > 3 then ', ...' else '' end) as resource,
    caller as actor,
    string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
    string_agg(distinct recipient_account_id, ', ' order by recipient_account_id) as account_id,
    string_agg(distinct aws_region, ', ' order by aws_region) as region,
    case when bool_and(error_code is not null) then min(error_code) end as error_code,
    case when max(peak_items) < getvariable('secret_read_distinct') then 'medium' end as severity,
    concat(count(distinct item), ' distinct ', string_agg(distinct secret_kind || 's', ' and ' order by secret_kind || 's'),
           ' requested in ', count(distinct event_id), ' call(s)',
           case when bool_and(error_code is not null) then ', all denied or failed'
                when count(error_code) > 0
                then concat(', ', count(distinct event_id) filter (where error_code is not null), ' of them denied or failed')
                else '' end,
           '; peak ', max(peak_items), ' distinct in ', max(peak_calls), ' call(s) within ',
           getvariable('secret_read_minutes'), ' minutes up to ', strftime(any_value(peak_at), '%Y-%m-%d %H:%M')) as summary,
    {'calls': count(distinct event_id),
     'failed_calls': count(distinct event_id) filter (where error_code is not null),
     'distinct_items': count(distinct item),
     'peak_distinct_in_window': max(peak_items),
     'peak_calls_in_window': max(peak_calls),
     'peak_window_end': any_value(peak_at),
     'items': list_sort(list_distinct(list(item order by item)))[:100],
     'kinds': list_sort(list_distinct(list(secret_kind order by secret_kind))),
     'error_codes': list_sort(list_distinct(list(error_code order by error_code))),
     'user_agents': list_sort(list_distinct(list(user_agent order by user_agent)))[:5],
     'invoked_by': list_sort(list_distinct(list(invoked_by order by invoked_by)))} as details
from reads
group by caller, burst
