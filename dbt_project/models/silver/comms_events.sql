with records as (
    select * from {{ ref('int_records__unioned') }}
),

final as (
    select
        record_key as event_key,
        record_key,
        source_dataset,
        source_version,
        source_record_id,
        classification,
        caller,
        callee,
        started_at,
        duration_s,
        cell_id,
        source_delivery_id,
        source_row_number,
        coalesce(invalid_fields, {{ empty_list('strings') }}) as invalid_fields
    from records
    where record_type = 'event'
)

select * from final
