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
        {{ address_list([address_struct('join_address(service_address, null)', 'service_town', 'service_postcode', 'company_officers')]) }} as addresses
    from parsed
)

select * from final
