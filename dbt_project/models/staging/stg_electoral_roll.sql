with source as (
    select * from {{ source('bronze', 'electoral_roll') }}
),

latest as (
    {{ latest_records('source', 'electoral_roll') }}
),

parsed as (
    select
        *,
        parse_person_name(full_name, {{ fmt('electoral_roll', 'full_name') }}) as parsed_name
    from latest
),

final as (
    select
        {{ lineage_columns('electoral_roll') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ address_list([address_struct('join_address(address_line_1, address_line_2)', 'town', 'postcode', 'electoral_roll')]) }} as addresses,
        {{ invalid_fields([('full_name', 'full_name', 'parsed_name.family_name'), ('postcode', 'postcode', "normalise_postcode(postcode, " ~ country('electoral_roll') ~ ")")]) }} as invalid_fields
    from parsed
)

select * from final
