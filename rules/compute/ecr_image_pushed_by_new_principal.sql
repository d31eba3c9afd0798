/*
id: ecr_image_pushed_by_new_principal
title: Container image pushed to ECR by a principal that never pushed to the repository
severity: medium
mitre: [T1525]
status: stable
description: >
  Detects ECR PutImage by a principal with no earlier PutImage to the same repository in the
  loaded data, when other principals pushed to it before (medium) or the data holds no earlier
  push at all (low). Replacing an image tag that services pull (latest, prod) runs the
  attacker's code wherever the image is deployed next - a persistent implant in the build
  supply chain.
false_positives: >
  A new CI pipeline or an engineer pushing by hand; repositories whose first push is inside the
  data.
triage:
  - Check the tag and digest pushed (details) and which services deploy from the repository.
  - Compare with the pipeline identity that usually pushes (details.earlier_pushers).
  - Pull and inspect the image; re-tag the previous digest if it is not trusted.
references:
  - https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
  - https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
  - https://attack.mitre.org/techniques/T1525/
*/
with pushes as (
    select *, coalesce(request_parameters->>'$.repositoryName', '(not recorded)') as repository
    from compute_events
    where event_source = 'ecr.amazonaws.com' and event_name = 'PutImage'
),
earlier as (
    select p.event_id, list(distinct h.principal order by h.principal) as earlier_pushers
    from pushes as p
    join (select *, request_parameters->>'$.repositoryName' as repository
          from compute_history
          where event_source = 'ecr.amazonaws.com' and event_name = 'PutImage' and error_code is null) as h
      on h.repository = p.repository
     and (h.event_time < p.event_time or (h.event_time = p.event_time and h.event_id < p.event_id))
    group by p.event_id
),
judged as (
    select p.*, coalesce(e.earlier_pushers, []) as earlier_pushers
    from pushes as p
    left join earlier as e on e.event_id = p.event_id
)
select
    event_id,
    concat('ECR ', repository) as resource,
    concat(attempt, 'image ', repository, ':', coalesce(request_parameters->>'$.imageTag', '(no tag)'), ' pushed by ',
           principal, case when len(earlier_pushers) > 0
                           then concat(', which never pushed to it before (earlier: ', array_to_string(earlier_pushers[1:3], ', '), ')')
                           else '; no earlier push to it in the data' end) as summary,
    {'tag': request_parameters->>'$.imageTag', 'digest': response_elements->>'$.image.imageId.imageDigest',
     'earlier_pushers': earlier_pushers, 'user_agent': user_agent} as details,
    case when len(earlier_pushers) = 0 then 'low' end as severity
from judged
where not list_contains(earlier_pushers, principal)
