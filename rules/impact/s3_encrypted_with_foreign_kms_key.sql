/*
id: s3_encrypted_with_foreign_kms_key
title: S3 bucket or objects encrypted with a KMS key of another account
severity: critical
mitre: [T1486]
status: stable
description: >
  Detects PutBucketEncryption setting a bucket's default encryption to a KMS key whose ARN names
  another account, and CopyObject/PutObject/CreateMultipartUpload writing objects with such a
  key. Data encrypted under a key the attacker owns can only be read while the attacker lets it:
  revoking the key grant or deleting the key holds the data to ransom. A key given by alias or
  bare id belongs to the caller's account and is not reported.
false_positives: >
  Organisations that keep KMS keys in a central security account and encrypt buckets of other
  accounts with them; check the key's account against the organisation's key account.
triage:
  - Check the account in details.kms_key against the organisation's accounts.
  - Restore the bucket's default encryption to an own key; copy readable objects while the foreign key still works.
  - Review the principal's other S3 and KMS calls (versioning, lifecycle, deletions).
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
  - https://attack.mitre.org/techniques/T1486/
*/
with keyed as (
    select
        *,
        coalesce(
            request_parameters->>'$.ServerSideEncryptionConfiguration.Rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID',
            request_parameters->>'$.ServerSideEncryptionConfiguration.Rule[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID',
            request_parameters->>'$."x-amz-server-side-encryption-aws-kms-key-id"',
            additional_event_data->>'$."x-amz-server-side-encryption-aws-kms-key-id"') as kms_key
    from impact_s3
    where event_name in ('PutBucketEncryption', 'CopyObject', 'PutObject', 'CreateMultipartUpload')
      -- cheap text test first: most object writes name no KMS key at all
      and (contains(request_parameters::varchar, 'KMSMasterKeyID')
           or contains(request_parameters::varchar, 'kms-key-id')
           or contains(coalesce(additional_event_data::varchar, ''), 'kms-key-id'))
      -- and most name a key of their own account
      and not contains(concat(request_parameters::varchar, coalesce(additional_event_data::varchar, '')),
                       concat(':', recipient_account_id, ':key/'))
),
foreign_keys as (
    select *, split_part(kms_key, ':', 5) as key_account
    from keyed
    where kms_key like 'arn:%:kms:%'
      and split_part(kms_key, ':', 5) <> ''
      and split_part(kms_key, ':', 5) is distinct from recipient_account_id
)
select
    list(event_id order by event_time, event_id)[1] as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    bucket as resource,
    concat(case when count(*) filter (where error_code is null) = 0
                then concat('attempt, ', list(error_code order by event_time, event_id)[1], ': ') else '' end,
           case when bool_or(event_name = 'PutBucketEncryption')
                then concat('bucket ', bucket, ' default encryption set to')
                else concat(count(*), ' object(s) in bucket ', bucket, ' encrypted with') end,
           ' KMS key ', kms_key, ' of account ', key_account) as summary,
    {'kms_key': kms_key, 'key_account': key_account, 'calls': count(*),
     'event_names': list(distinct event_name order by event_name), 'principal': principal} as details
from foreign_keys
group by principal, bucket, kms_key, key_account, event_name = 'PutBucketEncryption'
