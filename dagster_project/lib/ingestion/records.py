"""Set-based parse, validation and dedupe of staged records into raw.event_records (SEMANTICS 1-2).

Statuses decided here are fixed at ingestion: INVALID (parse and field faults), DUPLICATE and
DUPLICATE_CONFLICT. Records that pass are ACCEPTED and claim their id forever; the
catalog-dependent statuses (account, schema, declared attributes, plan, meters) are computed
downstream by dbt on every run, so fixing the catalog bills events already received.
"""

from __future__ import annotations

import duckdb

RAW_DDL = """
create schema if not exists raw;

-- One row per landing file ever ingested (or rejected whole), keyed by content hash.
create table if not exists raw.landing_files (
    file_seq bigint not null,
    file_name varchar not null,
    content_sha256 varchar not null,
    raw_ref_prefix varchar not null,
    file_format varchar not null,
    size_bytes bigint not null,
    received_at timestamptz not null,
    records bigint not null,
    file_status varchar not null,      -- INGESTED | REJECTED
    reject_reason varchar
);

-- The ingestion log: every record that entered, exactly once, in order of receipt.
create table if not exists raw.event_records (
    record_seq bigint not null,
    raw_ref varchar not null,
    source_file varchar not null,
    file_seq bigint not null,
    record_no bigint not null,
    received_at timestamptz not null,
    event_id varchar,
    event_id_derived boolean,
    payload_fingerprint varchar,
    event_timestamp timestamptz,
    schema_name varchar,
    account_ref varchar,
    attributes map(varchar, decimal(38, 12)),
    dimensions map(varchar, varchar),
    ingest_status varchar not null,    -- ACCEPTED | INVALID | DUPLICATE | DUPLICATE_CONFLICT
    status_reason varchar,
    raw_payload varchar                -- kept for records not accepted, to show what was wrong
);
"""

# A record's known top-level fields. Each record's JSON is parsed once into them (from_json);
# the checks below read those small parts, so the cost per record stays near that of
# DuckDB's JSON reader.
RECORD_FIELD_NAMES = ("id", "timestamp", "accountId", "schemaName", "attributes", "dimensions")
RECORD_FIELDS = "{" + ", ".join(f'"{name}": "JSON"' for name in RECORD_FIELD_NAMES) + "}"
RECORD_FIELDS_TYPE = "struct(" + ", ".join(f'"{name}" json' for name in RECORD_FIELD_NAMES) + ")"
KNOWN_KEYS = "(" + ", ".join(f"'{name}'" for name in RECORD_FIELD_NAMES) + ")"

STAGING_DDL = """
create or replace temp table batch_files (
    file_seq bigint, file_name varchar, content_sha256 varchar, raw_ref_prefix varchar,
    file_format varchar, size_bytes bigint, file_problem varchar
);
-- A JSON record arrives as its text; a Parquet record as its columns, already split into
-- the record's fields (JSON values), so it is never turned into text and parsed again.
create or replace temp table batch_records (
    file_seq bigint, record_no bigint, raw_text varchar, fields RECORD_FIELDS_TYPE
);
""".replace("RECORD_FIELDS_TYPE", RECORD_FIELDS_TYPE)

# The canonical payload: parsed JSON, keys sorted, no whitespace (SEMANTICS, precise readings).
# Macros cannot recurse, so keys are sorted four levels deep (top level, attributes list,
# attribute entry, values); deeper objects keep their order, which no event shape reaches.
# An object naming a key twice is no MAP (try_cast gives null): it keeps its own text, so
# one such record cannot stop the batch.
_CANONICAL_LEVEL = """
create or replace temp macro th_canonical_{level}(v) as case json_type(v)
    when 'OBJECT' then coalesce('{{' || array_to_string(list_transform(
        list_sort(map_entries(try_cast(v as map(varchar, json)))),
        lambda e: to_json(e.key)::varchar || ':' || coalesce(th_canonical_{lower}(e.value), 'null')
    ), ',') || '}}', json(v)::varchar)
    when 'ARRAY' then '[' || array_to_string(list_transform(
        json_extract(v, '$[*]'), lambda e: coalesce(th_canonical_{lower}(e), 'null')
    ), ',') || ']'
    else json(v)::varchar
end;
"""
MACROS = (
    "create or replace temp macro th_canonical_0(v) as json(v)::varchar;\n"
    + "".join(_CANONICAL_LEVEL.format(level=n, lower=n - 1) for n in range(1, 5))
    + r"""
-- The JSON text of a record staged as its fields (Parquet): shown for records not accepted
-- and hashed for an id-less record's id. A null field is an absent one.
create or replace temp macro th_record_text(f) as json_merge_patch('{}', json_object(
    'id', f.id, 'schemaName', f.schemaName, 'timestamp', f.timestamp, 'accountId', f.accountId,
    'attributes', f.attributes, 'dimensions', f.dimensions))::varchar;
-- The first key of a JSON object's key list that an earlier key already named, else null.
create or replace temp macro th_repeated_key(keys) as case
    when len(keys) > len(list_distinct(keys))
        then list_filter(keys, lambda k, i: list_position(keys, k) < i)[1]
end;
-- A JSON number or numeric string as the exact decimal, null when it is not one.
create or replace temp macro th_exact(v) as try_cast(trim(v->>'$') as decimal(38, 12));
-- Numeric text as JS Number() reads it (blanks allowed).
create or replace temp macro th_is_numeric_text(t) as
    regexp_full_match(trim(t), '[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?');
-- t: the value's text; d: t cast to the exact decimal (null when it is not one).
create or replace temp macro th_decimal_problem(t, d) as case
    when not th_is_numeric_text(t) then 'is not numeric'
    when lower(t) not like '%e%'
         and length(rtrim(split_part(trim(t), '.', 2), '0')) > 12
        then 'has more than 12 decimal places'
    when d is null then 'is out of range'
end;
"""
)

# ISO-8601 date-time with optional fraction and offset; a naive time is UTC (session zone).
ISO_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?"

ATTRIBUTE_ENTRY_FIELDS = '[{"name": "JSON", "value": "JSON", "unit": "JSON"}]'

PARSE_SQL = (
    """
create or replace temp table batch_parsed as
with staged as (
    select b.file_seq, b.record_no, f.file_name as source_file,
           f.raw_ref_prefix || ':' || b.record_no as raw_ref,
           b.raw_text, b.fields as staged_fields, f.file_problem,
           case when b.fields is null and f.file_problem is null and json_valid(b.raw_text)
                then b.raw_text end as doc
    from batch_records b join batch_files f using (file_seq)
    union all
    -- A file that cannot be read at all is one record, `<name>:0` (SEMANTICS, files).
    select file_seq, 0, file_name, raw_ref_prefix || ':0', null, null, file_problem, null
    from batch_files where file_problem is not null
),
records as (
    select *, staged_fields is not null or coalesce(json_type(doc) = 'OBJECT', false) as is_object
    from staged
),
fields as (
    select *,
        coalesce(staged_fields, case when is_object then from_json(doc, 'RECORD_FIELDS') end) as f,
        -- Staged fields have no other keys and none twice (the Parquet schema is checked).
        case when staged_fields is null and is_object then json_keys(doc) end as record_keys
    from records
),
keyed as (
    select *,
        coalesce(list_filter(record_keys, lambda k: k not in KNOWN_KEYS), []) as extra_keys,
        th_repeated_key(record_keys) as repeated_record_key
    from fields
),
typed as (
    select *,
        json_type(f.id) as id_type, f.id->>'$' as id_text,
        json_type(f.timestamp) as timestamp_type, f.timestamp->>'$' as timestamp_text,
        json_type(f.accountId) as account_type, f.accountId->>'$' as account_text,
        json_type(f.schemaName) as schema_type, f.schemaName->>'$' as schema_text,
        json_type(f.attributes) as attributes_type,
        json_type(f.dimensions) as dimensions_type,
        case when json_type(f.attributes) = 'ARRAY' then json_type(f.attributes, '$[*]') end
            as attribute_entry_types,
        -- An object naming a key twice is no MAP (keys are unique): try_cast gives null.
        case when json_type(f.attributes) = 'OBJECT'
            then try_cast(f.attributes as map(varchar, json)) end as attributes_map,
        case when json_type(f.dimensions) = 'OBJECT'
            then try_cast(f.dimensions as map(varchar, json)) end as dimensions_map
    from keyed
),
objects as (
    -- The key named twice, looked for in the rare objects that are no MAP: that one record
    -- is INVALID.
    select *,
        case when attributes_type = 'OBJECT' and attributes_map is null
            then th_repeated_key(json_keys(f.attributes)) end as repeated_attribute_key,
        case when dimensions_type = 'OBJECT' and dimensions_map is null
            then th_repeated_key(json_keys(f.dimensions)) end as repeated_dimension_key
    from typed
),
entries as (
    select *,
        case
            when attributes_type = 'ARRAY' and coalesce(list_bool_and(list_transform(
                attribute_entry_types, lambda t: t = 'OBJECT')), true)
            then list_transform(from_json(f.attributes, 'ATTRIBUTE_ENTRY_FIELDS'), lambda e: {
                'name': e.name->>'$', 'name_type': json_type(e.name),
                'value_type': coalesce(json_type(e.value), 'NULL'), 'value_text': e.value->>'$',
                'unit': e.unit->>'$', 'value': th_exact(e.value)})
            when attributes_type = 'OBJECT' and repeated_attribute_key is null
            -- (The cast runs only if an object were no MAP for another reason: it fails the batch.)
            then list_transform(map_entries(coalesce(
                attributes_map, cast(f.attributes as map(varchar, json)))), lambda e: {
                'name': e.key, 'name_type': 'VARCHAR',
                'value_type': coalesce(json_type(e.value), 'NULL'), 'value_text': e.value->>'$',
                'unit': null::varchar, 'value': th_exact(e.value)})
        end as attribute_entries,
        case when dimensions_type = 'OBJECT' and repeated_dimension_key is null
            then list_sort(map_entries(coalesce(
                dimensions_map, cast(f.dimensions as map(varchar, json))))) end as dimension_entries
    from objects
),
checked as (
    select *,
        try_cast(case when regexp_full_match(timestamp_text, $iso_timestamp) then timestamp_text end
                 as timestamptz) as event_ts,
        list_filter(list_transform(attribute_entries, lambda a: case
            when a.name_type is distinct from 'VARCHAR' or a.name = '' then 'attributes entry has no name'
            when a.value_type = 'NULL' then null
            when a.value_type not in ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE', 'VARCHAR')
                then 'attribute ''' || a.name || ''' must be a number or a numeric string'
            -- A JSON integer (BIGINT, UBIGINT) is always exact at 12 places: no text checks.
            when a.value_type in ('BIGINT', 'UBIGINT') then null
            when th_decimal_problem(a.value_text, a.value) is not null
                then 'attribute ''' || a.name || ''' ' || th_decimal_problem(a.value_text, a.value)
                     || ': ' || to_json(a.value_text)::varchar
        end), lambda p: p is not null) as attribute_problems,
        list_filter(dimension_entries, lambda d: coalesce(json_type(d.value), 'NULL') not in ('VARCHAR', 'NULL'))
            as bad_dimensions,
        -- Only a list can name an attribute twice (an object that does is no MAP, above).
        attributes_type = 'ARRAY' and len(list_distinct(list_transform(
            attribute_entries, lambda a: a.name))) < len(attribute_entries) as repeats_attribute
    from entries
),
fingerprinted as (
    select *,
        -- The canonical payload's fingerprint (SEMANTICS: keys sorted, values parsed, types
        -- kept), built from the parsed parts; a record with unknown top-level keys takes the
        -- generic canonical form (CANONICAL_SQL).
        case
            when is_object and len(extra_keys) = 0 then 'f:' || md5(concat_ws('|',
                f.id, f.timestamp, f.accountId, f.schemaName, attributes_type,
                list_transform(
                    case when attributes_type = 'OBJECT' then list_sort(attribute_entries)
                         else attribute_entries end,
                    lambda a: [a.name, a.value_type, coalesce(a.value::varchar, a.value_text),
                               a.unit])::varchar,
                dimensions_type,
                list_transform(dimension_entries, lambda d: [d.key, d.value::varchar])::varchar))
        end as payload_fingerprint
    from checked
)
select
    file_seq, record_no, source_file, raw_ref, raw_text, staged_fields,
    is_object as is_parsed,
    -- An id-less record's id comes from CANONICAL_SQL.
    case when id_type = 'VARCHAR' and length(id_text) between 1 and 512 then id_text end as event_id,
    id_type is null or id_type = 'NULL' as event_id_derived,
    payload_fingerprint,
    -- A staged record has no text: its canonical payload is built from its fields.
    case when is_object and (len(extra_keys) > 0 or id_type is null or id_type = 'NULL')
        then coalesce(doc, th_record_text(f)) end as canonical_source,
    event_ts as event_timestamp,
    schema_text as schema_name,
    account_text as account_ref,
    -- An explicit null attribute or dimension is absent (SEMANTICS, values).
    coalesce(case when not repeats_attribute then map_from_entries(list_transform(
        list_filter(attribute_entries, lambda a: a.value_type <> 'NULL'),
        lambda a: {'key': a.name, 'value': a.value})) end,
        map()::map(varchar, decimal(38, 12))) as attributes,
    coalesce(map_from_entries(list_transform(
        list_filter(dimension_entries, lambda d: coalesce(json_type(d.value), 'NULL') <> 'NULL'),
        lambda d: {'key': d.key, 'value': d.value->>'$'})),
        map()::map(varchar, varchar)) as dimensions,
    -- The first problem in field order names the field (SEMANTICS 2).
    case
        when file_problem is not null then file_problem
        when is_object then null
        when doc is null then 'unparseable JSON'
        else 'record is not a JSON object'
    end as parse_problem,
    case
        when repeated_record_key is not null
            then 'key ''' || repeated_record_key || ''' appears twice'
        when not (id_type is null or id_type = 'NULL' or (id_type = 'VARCHAR' and length(id_text) between 1 and 512))
            then 'id must be a string of 1-512 characters'
        when timestamp_type is null or timestamp_type = 'NULL' then 'missing timestamp'
        when timestamp_type <> 'VARCHAR' or event_ts is null
            then 'timestamp ' || f.timestamp || ' is not an ISO-8601 timestamp'
        when account_type is null or account_type = 'NULL' then 'missing accountId'
        when account_type <> 'VARCHAR' or account_text = '' then 'accountId must be a non-empty string'
        when schema_type is null or schema_type = 'NULL' then 'missing schemaName'
        when schema_type <> 'VARCHAR' or schema_text = '' then 'schemaName must be a non-empty string'
        when attributes_type is not null and attributes_type not in ('NULL', 'ARRAY', 'OBJECT')
            then 'attributes must be a list of {name, value} or an object'
        when attributes_type = 'ARRAY' and attribute_entries is null
            then 'attributes entry is not an object {name, value}'
        when repeated_attribute_key is not null
            then 'attribute ''' || repeated_attribute_key || ''' appears twice'
        when len(attribute_problems) > 0 then attribute_problems[1]
        when repeats_attribute then 'attributes name the same attribute twice'
        when dimensions_type is not null and dimensions_type not in ('NULL', 'OBJECT')
            then 'dimensions must be an object of strings'
        when repeated_dimension_key is not null
            then 'dimension ''' || repeated_dimension_key || ''' appears twice'
        when len(bad_dimensions) > 0
            then 'dimension ''' || bad_dimensions[1].key || ''' must be a string'
        when event_ts > $received_at::timestamptz + interval 1 day
            then 'timestamp ' || timestamp_text || ' is more than 1 day after received_at'
    end as field_problem
from fingerprinted
""".replace("'RECORD_FIELDS'", f"'{RECORD_FIELDS}'")
    .replace("'ATTRIBUTE_ENTRY_FIELDS'", f"'{ATTRIBUTE_ENTRY_FIELDS}'")
    .replace("KNOWN_KEYS", KNOWN_KEYS)
)

# The generic canonical payload, for the few records that need it: an id-less record's id is
# its hash (CONTRACT §1.1), and it fingerprints a record with unknown top-level keys. The
# macro is costly per call, and far costlier on a sparse selection of a large batch (every
# vector pays for it), so those records are first copied into a small table of their own.
CANONICAL_SQL = """
create or replace temp table batch_canonical as
select file_seq, record_no, canonical_source from batch_parsed where canonical_source is not null;

update batch_parsed p set
    event_id = case when p.event_id_derived then 'sha256:' || c.canonical_sha else p.event_id end,
    payload_fingerprint = coalesce(p.payload_fingerprint, 'c:' || c.canonical_sha)
from (
    select file_seq, record_no, sha256(th_canonical_4(canonical_source::JSON)) as canonical_sha
    from batch_canonical
) c
where p.file_seq = c.file_seq and p.record_no = c.record_no;
"""

# Dedupe forever: the first record (in order of receipt) that passes validation claims its
# id; a later record with that id is a DUPLICATE, or a DUPLICATE_CONFLICT if its payload differs.
CLASSIFY_SQL = """
insert into raw.event_records
with sequence as (
    -- Numbered on the two keys alone: a window over the whole parsed rows sorts (and at
    -- scale spills) every column.
    select file_seq, record_no, $first_seq + row_number() over (order by file_seq, record_no) as record_seq
    from batch_parsed
),
numbered as (
    -- Read once below; the claims join the sequence again rather than share a CTE of the
    -- whole rows, which DuckDB would materialize.
    select p.*, s.record_seq from batch_parsed p join sequence s using (file_seq, record_no)
),
claims as (
    select event_id, payload_fingerprint, record_seq
    from raw.event_records
    where ingest_status = 'ACCEPTED'
      and event_id in (select event_id from batch_parsed where is_parsed)
    union all
    select p.event_id, p.payload_fingerprint, s.record_seq
    from batch_parsed p join sequence s using (file_seq, record_no)
    where p.is_parsed and p.field_problem is null
),
first_claims as (
    select event_id, arg_min(payload_fingerprint, record_seq) as claim_payload, min(record_seq) as claim_seq
    from claims group by event_id
),
classified as (
    select n.*,
        case
            when n.parse_problem is not null then 'INVALID'
            when c.claim_seq < n.record_seq then
                case when c.claim_payload = n.payload_fingerprint then 'DUPLICATE' else 'DUPLICATE_CONFLICT' end
            when n.field_problem is not null then 'INVALID'
            else 'ACCEPTED'
        end as ingest_status,
        c.claim_seq
    from numbered n left join first_claims c on n.is_parsed and c.event_id = n.event_id
)
select
    record_seq, raw_ref, source_file, file_seq, record_no, $received_at::timestamptz,
    case when is_parsed then event_id end, case when is_parsed then event_id_derived end,
    payload_fingerprint,
    case when ingest_status = 'ACCEPTED' then event_timestamp end,
    schema_name, account_ref,
    case when ingest_status = 'ACCEPTED' then attributes end,
    case when ingest_status = 'ACCEPTED' then dimensions end,
    ingest_status,
    case ingest_status
        when 'INVALID' then coalesce(parse_problem, field_problem)
        when 'DUPLICATE' then 'same id and payload as an earlier record'
        when 'DUPLICATE_CONFLICT' then 'same id as an earlier record with a different payload; the first stays billed'
    end,
    case when ingest_status <> 'ACCEPTED' then coalesce(raw_text, th_record_text(staged_fields)) end
from classified
"""


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)


def prepare_batch(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STAGING_DDL)
    con.execute(MACROS)


RECORD_FILES_SQL = """
insert into raw.landing_files
select f.file_seq, f.file_name, f.content_sha256, f.raw_ref_prefix, f.file_format, f.size_bytes,
       $received_at::timestamptz,
       (select count(*) from batch_parsed p where p.file_seq = f.file_seq and p.record_no > 0),
       case when f.file_problem is null then 'INGESTED' else 'REJECTED' end,
       f.file_problem
from batch_files f
"""


def classify_batch(con: duckdb.DuckDBPyConnection, received_at) -> None:
    """Parse, validate and dedupe the staged batch; append it to raw.event_records and
    its files to raw.landing_files."""
    con.execute(PARSE_SQL, {"iso_timestamp": ISO_TIMESTAMP, "received_at": received_at})
    con.execute(CANONICAL_SQL)
    first_seq = con.execute(
        "select coalesce(max(record_seq), 0) from raw.event_records"
    ).fetchall()[0][0]
    con.execute(CLASSIFY_SQL, {"first_seq": first_seq, "received_at": received_at})
    con.execute(RECORD_FILES_SQL, {"received_at": received_at})
