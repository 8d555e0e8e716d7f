{#- Raw values the rules could not normalise (nulled in silver), counted per dataset and field. -#}
with records as (
    select source_dataset, invalid_fields from {{ ref('int_records__unioned') }}
),

totals as (
    select source_dataset, count(*) as records
    from records
    group by source_dataset
),

invalid as (
    select source_dataset, {{ explode_list('invalid_fields') }} as field
    from records
),

final as (
    select
        invalid.source_dataset,
        invalid.field,
        count(*) as invalid_values,
        any_value(totals.records) as records,
        round(count(*) / any_value(totals.records), 4) as invalid_share
    from invalid
    inner join totals on invalid.source_dataset = totals.source_dataset
    group by invalid.source_dataset, invalid.field
)

select * from final
