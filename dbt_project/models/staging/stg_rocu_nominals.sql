with source as (
    select * from {{ source('bronze', 'rocu_nominals') }}
),

latest as (
    {{ latest_records('source', 'rocu_nominals') }}
),

parsed as (
    select
        *,
        parse_person_name(nominal_name, {{ fmt('rocu_nominals', 'nominal_name') }}) as parsed_name,
        parse_date_of_birth(date_of_birth, {{ fmt('rocu_nominals', 'date_of_birth') }}) as parsed_birth
    from latest
),

final as (
    select
        {{ lineage_columns('rocu_nominals') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ birth_columns('parsed_birth') }},
        {{ gender('gender') }} as gender,
        {{ list_where('fold_texts(aliases)', 'a', 'a is not null') }} as aliases,
        {{ list_where(
            'split_addresses(addresses, ' ~ country('rocu_nominals') ~ ')',
            'a', address_present('a')
        ) }} as addresses,
        {{ list_where('to_e164s(phones, ' ~ country('rocu_nominals') ~ ')', 'p', 'p is not null') }} as phones,
        {{ invalid_fields([('nominal_name', 'nominal_name', 'parsed_name.family_name'), ('date_of_birth', 'date_of_birth', 'parsed_birth.birth_year')]) }} as invalid_fields
    from parsed
)

select * from final
