with source as (
    select * from {{ source('bronze', 'vehicle_keepers') }}
),

latest as (
    {{ latest_records('source', 'vehicle_keepers') }}
),

parsed as (
    select
        *,
        parse_person_name(keeper_name, {{ fmt('vehicle_keepers', 'keeper_name') }}) as parsed_name,
        parse_date_of_birth(date_of_birth, {{ fmt('vehicle_keepers', 'date_of_birth') }}) as parsed_birth
    from latest
),

final as (
    select
        {{ lineage_columns('vehicle_keepers') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ birth_columns('parsed_birth') }},
        {{ address_list([address_struct('join_address(address, null)', 'town', 'postcode', 'vehicle_keepers')]) }} as addresses,
        {{ invalid_fields([('keeper_name', 'keeper_name', 'parsed_name.family_name'), ('date_of_birth', 'date_of_birth', 'parsed_birth.birth_year'), ('postcode', 'postcode', "normalise_postcode(postcode, " ~ country('vehicle_keepers') ~ ")")]) }} as invalid_fields
    from parsed
)

select * from final
