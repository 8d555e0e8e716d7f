with source as (
    select * from {{ source('bronze', 'company_officers') }}
),

latest as (
    {{ latest_records('source', 'company_officers') }}
),

parsed as (
    select
        *,
        parse_person_name(officer_name, {{ fmt('company_officers', 'officer_name') }}) as parsed_name,
        parse_date_of_birth(birth_month_year, {{ fmt('company_officers', 'birth_month_year') }}) as parsed_birth
    from latest
),

final as (
    select
        {{ lineage_columns('company_officers') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ birth_columns('parsed_birth') }},
        {{ address_list([address_struct('join_address(service_address, null)', 'service_town', 'service_postcode', 'company_officers')]) }} as addresses,
        {{ invalid_fields([('officer_name', 'officer_name', 'parsed_name.family_name'), ('birth_month_year', 'birth_month_year', 'parsed_birth.birth_year'), ('service_postcode', 'service_postcode', "normalise_postcode(service_postcode, " ~ country('company_officers') ~ ")")]) }} as invalid_fields
    from parsed
)

select * from final
