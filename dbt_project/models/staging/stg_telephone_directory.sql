with source as (
    select * from {{ source('bronze', 'telephone_directory') }}
),

latest as (
    {{ latest_records('source', 'telephone_directory') }}
),

parsed as (
    select
        *,
        parse_person_name(listed_name, {{ fmt('telephone_directory', 'listed_name') }}) as parsed_name
    from latest
),

final as (
    select
        {{ lineage_columns('telephone_directory') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ address_list([address_struct('join_address(address, null)', 'town', 'postcode', 'telephone_directory')]) }} as addresses,
        {{ phone_list(['telephone'], 'telephone_directory') }} as phones,
        {{ invalid_fields([('listed_name', 'listed_name', 'parsed_name.family_name'), ('postcode', 'postcode', "normalise_postcode(postcode, " ~ country('telephone_directory') ~ ")"), ('telephone', 'telephone', "to_e164(telephone, " ~ country('telephone_directory') ~ ")")]) }} as invalid_fields
    from parsed
)

select * from final
