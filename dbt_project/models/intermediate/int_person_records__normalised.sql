with records as (
    select * from {{ ref('int_records__unioned') }}
),

final as (
    select *
    from records
    where record_type = 'person'
)

select * from final
