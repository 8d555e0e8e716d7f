with persons as (
    select * from {{ ref('int_person_records__normalised') }}
),

final as (
    select
        record_key,
        source_dataset,
        source_version,
        source_record_id,
        classification,
        given_name,
        middle_names,
        family_name,
        full_name,
        date_of_birth,
        coalesce(birth_year, year(date_of_birth)) as birth_year,
        gender,
        nationality,
        coalesce(aliases, {{ empty_list('strings') }}) as aliases,
        coalesce(invalid_fields, {{ empty_list('strings') }}) as invalid_fields,
        source_delivery_id,
        source_row_number
    from persons
)

select * from final
