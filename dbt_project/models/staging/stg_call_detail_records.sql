with source as (
    select * from {{ source('bronze', 'call_detail_records') }}
),

latest as (
    {{ latest_records('source', 'call_detail_records') }}
),

final as (
    select
        {{ lineage_columns('call_detail_records') }},
        'event' as record_type,
        to_e164(caller_msisdn, {{ country('call_detail_records') }}) as caller,
        to_e164(callee_msisdn, {{ country('call_detail_records') }}) as callee,
        {{ local_time('call_detail_records', 'start_time_local') }} as started_at,
        duration_s,
        cell_id,
        {{ invalid_fields([('caller_msisdn', 'caller_msisdn', "to_e164(caller_msisdn, " ~ country('call_detail_records') ~ ")"), ('callee_msisdn', 'callee_msisdn', "to_e164(callee_msisdn, " ~ country('call_detail_records') ~ ")"), ('start_time_local', 'start_time_local', local_time('call_detail_records', 'start_time_local'))]) }} as invalid_fields
    from latest
)

select * from final
