{#- Every catalogue dataset's staging model, stacked in the shared shape. Incremental on DuckDB
    (transforms/silver_plan.py): a build normalises only the deliveries not held yet, a record
    re-delivered replaces its older row, and a new `cut` carries over the records it repeats
    unchanged and deletes the rest of the cut it replaces. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ carry_unchanged_cut_records() }}",
    post_hook="{{ record_normalised_deliveries() }}",
) }}

with unioned as (
    {{ union_staging() }}
)

select * from unioned
{% if is_incremental() %}
{#- A late delivery never replaces a record a later delivery already gave (a rebuild keeps the latest). -#}
where not exists (
    select 1
    from {{ this }} as held
    where held.record_key = unioned.record_key
        and held.source_delivery_id > unioned.source_delivery_id
)
{% endif %}
