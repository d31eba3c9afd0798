/*
id: bucket_objects_read_in_bulk
title: Unusual volume of S3 object reads by one identity
severity: medium
mitre: [T1530]
status: stable
description: >
  Detects an identity whose GetObject calls on one bucket within object_read_minutes reach
  object_read_calls or object_read_megabytes (bytes from additionalEventData.bytesTransferredOut),
  or reach object_read_baseline_factor times its usual calls per window and at least
  object_read_baseline_minimum (usual = the median over the identity's windows with reads, all
  buckets, all data loaded; three such windows are needed). An identity that usually reads more
  than the fixed thresholds is judged against its usual volume only. High when both tests are met.
  Reading a bucket in bulk is how stolen credentials turn into stolen data. Needs S3 data events:
  see Notes for whether the data has any.
false_positives: >
  Backups, data pipelines, analytics jobs and new applications reading a bucket in full;
  CloudFront or other services fetching objects.
triage:
  - Check who the reader is and whether it normally reads this bucket (details give its usual volume).
  - 'List the objects read: `select object_key, bytes_out from s3_object_reads where reader = ... order by event_time`.'
  - If unexpected, revoke the credentials and check the bucket policy for outside grants.
references:
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html
  - https://attack.mitre.org/techniques/T1530/
*/
with usual as (
    select
        reader_key,
        case when count(*) >= 3 then median(reads) end as usual_reads,
        case when count(*) >= 3 then median(bytes) end as usual_bytes,
        count(*) as active_windows
    from (
        select
            hash(reader) as reader_key,
            time_bucket(to_minutes(getvariable('object_read_minutes')::bigint), event_time) as slot,
            count(*) as reads,
            coalesce(sum(bytes_out), 0) as bytes
        from s3_object_reads_all
        where event_time is not null
        group by reader_key, slot
    )
    group by reader_key
),
-- The reads in scope as numbers (hashes of reader and bucket): sorting strings and carrying
-- wide rows through a window over millions of reads is several times slower.
reads as materialized (
    select
        event_id,
        event_time,
        hash(reader, bucket) as read_key,
        hash(reader) as reader_key,
        bytes_out,
        time_bucket(to_minutes(getvariable('object_read_minutes')::bigint), event_time) as slot,
        reader,
        bucket,
        object_key,
        source_ip,
        recipient_account_id,
        aws_region,
        error_code,
        user_agent
    from s3_object_reads
    where event_time is not null
),
-- Any window of object_read_minutes lies within two consecutive fixed slots, so only slots
-- whose reads, added to the slot before, could reach a threshold need the sliding count.
slots as (
    select
        read_key,
        slot,
        count(*) as reads,
        coalesce(sum(bytes_out), 0) as bytes
    from reads
    group by read_key, slot
),
candidate_slots as (
    select
        s.read_key,
        s.slot
    from slots as s
    left join slots as p
      on p.read_key = s.read_key
     and p.slot = s.slot - to_minutes(getvariable('object_read_minutes')::bigint)
    where s.reads + coalesce(p.reads, 0) >= least(getvariable('object_read_calls'), getvariable('object_read_baseline_minimum'))
       or s.bytes + coalesce(p.bytes, 0) >= getvariable('object_read_megabytes') * 1048576
),
measured as (
    select
        *,
        count(*) over recent as reads_in_window,
        coalesce(sum(bytes_out) over recent, 0) as bytes_in_window
    from reads
    semi join (
        select read_key, slot from candidate_slots
        union
        select read_key, slot - to_minutes(getvariable('object_read_minutes')::bigint) from candidate_slots
    ) as needed using (read_key, slot)
    window recent as (
        partition by read_key
        order by event_time
        range between to_minutes(getvariable('object_read_minutes')::bigint) preceding and current row
    )
),
-- A window above a threshold is hot; hot windows that overlap form one burst. An identity
-- that usually reads more than the fixed thresholds is judged against its usual volume only.
hot as (
    select
        *,
        event_time - lag(event_time) over (partition by read_key order by event_time) as gap
    from (
        select
            m.*,
            u.usual_reads,
            u.active_windows,
            (m.reads_in_window >= getvariable('object_read_calls')
                and coalesce(u.usual_reads, 0) < getvariable('object_read_calls'))
            or (m.bytes_in_window >= getvariable('object_read_megabytes') * 1048576
                and coalesce(u.usual_bytes, 0) < getvariable('object_read_megabytes') * 1048576) as large,
            coalesce(m.reads_in_window >= getvariable('object_read_baseline_factor') * u.usual_reads
                     and m.reads_in_window >= getvariable('object_read_baseline_minimum'), false) as unusual
        from measured as m
        left join usual as u using (reader_key)
    )
    where large or unusual
),
bursts as (
    select
        read_key,
        burst,
        min(event_time) - to_minutes(getvariable('object_read_minutes')::bigint) as burst_start,
        max(event_time) as burst_end,
        bool_or(large) as large,
        bool_or(unusual) as unusual,
        max(reads_in_window) as peak_reads,
        arg_min(event_time, (-reads_in_window, event_time)) as peak_at,
        max(bytes_in_window) as peak_bytes,
        any_value(usual_reads) as usual_reads,
        any_value(active_windows) as active_windows
    from (
        select
            *,
            sum(case when gap is null or gap > to_minutes(getvariable('object_read_minutes')::bigint) then 1 else 0 end)
                over (partition by read_key order by event_time rows between unbounded preceding and current row) as burst
        from hot
    )
    group by read_key, burst
),
-- Every read inside a burst lies in a candidate slot or the slot before it, so the
-- measured reads hold them all.
burst_reads as (
    select
        m.*,
        b.burst,
        b.large,
        b.unusual,
        b.peak_reads,
        b.peak_at,
        b.peak_bytes,
        b.usual_reads,
        b.active_windows
    from bursts as b
    join measured as m
      on m.read_key = b.read_key
     and m.event_time between b.burst_start and b.burst_end
)
select
    arg_min(r.event_id, (r.event_time, r.event_id)) as event_id,
    list(r.event_id order by r.event_time, r.event_id) as event_ids,
    concat('bucket ', r.bucket) as resource,
    r.reader as actor,
    string_agg(distinct r.source_ip, ', ' order by r.source_ip) as source_ip,
    string_agg(distinct r.recipient_account_id, ', ' order by r.recipient_account_id) as account_id,
    string_agg(distinct r.aws_region, ', ' order by r.aws_region) as region,
    case when bool_and(r.error_code is not null) then min(r.error_code) end as error_code,
    case when any_value(r.large) and any_value(r.unusual) then 'high' end as severity,
    concat(count(*), ' object(s) read (', count(distinct r.object_key), ' distinct keys',
           case when sum(r.bytes_out) is not null then concat(', ', exfiltration_bytes_text(sum(r.bytes_out)::bigint)) else '' end,
           ') from ', r.bucket, '; peak ', any_value(r.peak_reads), ' within ', getvariable('object_read_minutes'),
           ' minutes up to ', strftime(any_value(r.peak_at), '%Y-%m-%d %H:%M'),
           case when any_value(r.usual_reads) is not null
                then concat('; it usually reads ', round(any_value(r.usual_reads))::bigint, ' per window')
                else '; too little history for a usual volume' end) as summary,
    {'reads': count(*), 'failed_reads': count(*) filter (where r.error_code is not null),
     'distinct_keys': count(distinct r.object_key), 'bytes_out': sum(r.bytes_out),
     'peak_reads_in_window': any_value(r.peak_reads), 'peak_window_end': any_value(r.peak_at),
     'peak_bytes_in_window': any_value(r.peak_bytes),
     'usual_reads_per_window': any_value(r.usual_reads), 'windows_with_reads': any_value(r.active_windows),
     'above_fixed_threshold': any_value(r.large), 'above_usual_volume': any_value(r.unusual),
     'sample_keys': list_sort(list_distinct(list(r.object_key order by r.object_key)))[:20],
     'user_agents': list_sort(list_distinct(list(r.user_agent order by r.user_agent)))[:5]} as details
from burst_reads as r
group by r.reader, r.bucket, r.burst
