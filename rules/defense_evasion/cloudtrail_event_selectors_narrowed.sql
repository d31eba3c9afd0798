/*
id: cloudtrail_event_selectors_narrowed
title: CloudTrail event selectors narrowed (management events off or read-only)
severity: high
mitre: [T1562.008]
status: stable
description: >
  Detects PutEventSelectors calls after which the trail no longer records management events, or
  records only read-only ones (so no change to the account is logged), in basic or advanced
  selectors; event sources excluded from management events; and PutInsightSelectors calls that
  turn CloudTrail Insights off. The trail still looks healthy (it exists and is logging) while
  recording nothing useful.
false_positives: >
  Trails intended only for data events, kept beside a separate management-event trail; excluding
  noisy KMS or RDS Data API events to save cost.
triage:
  - Check whether another trail still records management events for the account.
  - Confirm the change with the trail's owner; restore the selectors if unexpected.
  - 'Review the caller''s activity after the change: it would not be in this trail.'
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
  - https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutInsightSelectors.html
*/
with selectors as (
    select
        *,
        json_extract(request_parameters, '$.eventSelectors[*]') as basic,
        json_extract(request_parameters, '$.advancedEventSelectors[*]') as advanced
    from scoped_events
    where event_source = 'cloudtrail.amazonaws.com'
      and event_name in ('PutEventSelectors', 'PutInsightSelectors')
),
management as (
    -- Selectors that keep management events: basic ones unless includeManagementEvents
    -- is false (true is the default), advanced ones with eventCategory = Management.
    select
        *,
        list_filter(basic, lambda s: coalesce(s->>'$.includeManagementEvents', 'true') <> 'false') as basic_management,
        list_filter(advanced, lambda s: len(list_filter(json_extract(s, '$.fieldSelectors[*]'),
            lambda f: f->>'$.field' = 'eventCategory'
                      and list_contains(json_extract_string(f, '$.equals[*]'), 'Management'))) > 0) as advanced_management
    from selectors
),
judged as (
    select
        *,
        len(basic) + len(advanced) > 0 as has_selectors,
        len(list_filter(basic_management, lambda s: coalesce(s->>'$.readWriteType', 'All') in ('All', 'WriteOnly')))
            + len(list_filter(advanced_management, lambda s: len(list_filter(json_extract(s, '$.fieldSelectors[*]'),
                  lambda f: f->>'$.field' = 'readOnly' and list_contains(json_extract_string(f, '$.equals[*]'), 'true'))) = 0))
            > 0 as writes_kept,
        list_distinct(flatten(list_transform(basic_management,
            lambda s: coalesce(json_extract_string(s, '$.excludeManagementEventSources[*]'), []::varchar[]))
            || list_transform(advanced_management, lambda s: flatten(list_transform(
                list_filter(json_extract(s, '$.fieldSelectors[*]'), lambda f: f->>'$.field' = 'eventSource'),
                lambda f: coalesce(json_extract_string(f, '$.notEquals[*]'), []::varchar[])))))) as excluded_sources
    from management
),
flagged as (
    select
        *,
        list_filter([
            case when event_name = 'PutEventSelectors' and has_selectors
                      and len(basic_management) + len(advanced_management) = 0
                 then {'severity': 'high', 'change': 'management events no longer recorded'}
                 when event_name = 'PutEventSelectors' and has_selectors and not writes_kept
                 then {'severity': 'high', 'change': 'only read-only management events recorded: changes to the account are not logged'} end,
            case when event_name = 'PutEventSelectors' and len(excluded_sources) > 0
                 then {'severity': 'medium', 'change': concat('management events from ', array_to_string(excluded_sources, ', '), ' excluded')} end,
            case when event_name = 'PutInsightSelectors' and request_parameters is not null
                      and coalesce(len(json_extract(request_parameters, '$.insightSelectors[*]')), 0) = 0
                 then {'severity': 'low', 'change': 'CloudTrail Insights turned off'} end,
            case when error_code is not null and request_parameters is null
                 then {'severity': 'low', 'change': 'the selectors asked for were not recorded'} end
        ], lambda item: item is not null) as changes
    from judged
)
select
    coalesce(request_parameters->>'$.trailName',
             evasion_denied_target(error_message, response_elements)) as resource,
    event_id,
    most_severe(list_transform(changes, lambda item: item.severity)) as severity,
    evasion_attempt(error_code) ||
    concat('trail ', coalesce(request_parameters->>'$.trailName', '(not recorded)'), ': ',
           array_to_string(list_transform(changes, lambda item: item.change), '; ')) as summary,
    {'changes': list_transform(changes, lambda item: item.change), 'request': request_parameters,
     'user_agent': user_agent} as details
from flagged as f
where len(changes) > 0
  and not exists (
      select 1 from evasion_trail_created as c
      where c.recipient_account_id = f.recipient_account_id
        and c.trail_name = regexp_extract(f.request_parameters->>'$.trailName', '([^/]+)$', 1)
        and f.event_time >= c.event_time and f.event_time < c.event_time + interval 60 second)
