with persons as (
    select * from {{ ref('int_person_records__normalised') }}
),

phones as (
    select record_key, classification, 'phone' as identifier_type, {{ explode_list('phones') }} as identifier
    from persons
),

emails as (
    select record_key, classification, 'email' as identifier_type, {{ explode_list('emails') }} as identifier
    from persons
),

imeis as (
    select record_key, classification, 'imei' as identifier_type, {{ explode_list('imeis') }} as identifier
    from persons
),

final as (
    select distinct record_key, identifier_type, identifier, classification
    from (
        select * from phones
        union all
        select * from emails
        union all
        select * from imeis
    )
    where identifier is not null
)

select * from final
