with persons as (
    select * from {{ ref('int_person_records__normalised') }}
),

unnested as (
    select
        record_key,
        classification,
        {{ explode_list('addresses') }} as address
    from persons
),

final as (
    select distinct
        record_key,
        address.address_line as address_line,
        address.town as town,
        address.postcode as postcode,
        address.country as country,
        classification
    from unnested
)

select * from final
