{{
    config(
        materialized='incremental',
        incremental_strategy=open_rows_strategy(),
        partition_by=open_rows_partition(),
        pre_hook="{{ remove_rows_where(open_invoice_rows()) }}",
        post_hook="{{ write_schema_file() }}",
        batch_key=['meter_id', 'invoice_id'],
    )
}}
-- depends_on: {{ ref('stg_billing__invoice_periods') }}
-- Lineage of revenue (SEMANTICS 18): one row per (event, invoice, usage rate card) with the
-- part of the usage line's unrounded amount the event is responsible for. The attributions
-- of one line sum exactly to int_rated_usage.amount (a data test checks it).
--   COUNT and SUM meters (event units: 1, or the event's value; null values count 0):
--     TIERED  marginal, in event order (timestamp, then event id): an event moving the running
--             total from c0 to c1 pays each per-unit slab's rate for its units between c0 and
--             c1, and the flat fee of each slab it crosses into (an event whose correction
--             takes the total back below a slab's start gets the fee back, negative, so fees
--             telescope to "once per slab touched"). A package slab's charge is shared in
--             proportion to the event's units inside that slab.
--     VOLUME  the rated amount in proportion to the event's units.
--     min/max clamp: the adjustment (amount − slab amount) in proportion to the event's units.
--   MAX, LATEST, UNIQUE_COUNT: equal shares to the events that set the value (every event
--     holding the maximum; the latest event with a value; the first event of each distinct
--     value); the other events get 0.
-- Shares are cut to 12 places (exact_multiply rounds per-unit slab charges at the 12th place,
-- apportion truncates); what the shares miss goes to the last contributing event in event
-- order (for COUNT any event, for SUM an event with a non-zero value, else a value setter).
-- Every matched event of an invoiced line has a row, at 0 when it contributed nothing.
-- Built in batches of (meter, invoice) ranges (macros/batches.sql): a line's events share
-- both, and the meter matches are stored meter by meter, so a batch reads the row groups of
-- its meters only (an invoice range alone read every match in every batch).
with usage_lines as (
    -- line_no: one integer for the line, the key of the windows and joins below in place of
    -- (invoice_id, rate_card_id): at 10M events the model took 53 s instead of 70 s.
    select *, dense_rank() over (order by invoice_id, rate_card_id) as line_no
    from {{ ref('int_rated_usage') }}
    where events > 0 and {{ in_batch() }}
    {% if is_incremental() %} and {{ is_open_invoice('invoice_id') }} {% endif %}
),

meter_matches as {{ inlined() }} (
    -- Late events (PAST_GRACE_PERIOD) are not billed, so they take no share. Inlined: read
    -- by both branches of line_events, DuckDB materialized every match of the table (28M
    -- rows, 6.8 GB of rows at 10M events; past 54 GB of spill at 100M) before joining.
    select * from {{ ref('int_event_meter_matches') }}
    where not is_past_grace_period and {{ in_batch() }}
    {% if is_incremental() %} and {{ is_open_invoice('invoice_id') }} {% endif %}
),

slab_bounds as (
    select * from {{ ref('int_rate_card_slab_bounds') }}
),

line_events as {{ inlined() }} (
    -- The events behind each line, with what their shares need: the line's other columns are
    -- joined back at the end (narrow rows sort faster in the windows below). Inlined: each
    -- branch below joins only its own lines' events, not a copy of all of them.
    select
        l.line_no,
        l.aggregation,
        l.pricing_model,
        l.quantity,
        l.amount,
        cast(l.amount - l.slab_amount as {{ exact_decimal() }}) as clamp_adjustment,
        m.record_seq,
        m.event_id,
        m.event_timestamp,
        m.meter_value,
        m.meter_key
    -- (A match's invoice is its record's, resolved from the same invoice periods.)
    from meter_matches as m
    inner join usage_lines as l
        on l.invoice_id = m.invoice_id
        and l.meter_id = m.meter_id
),

-- Each line takes one of two branches, which compute only the windows they need. Every window
-- orders a line's events by (timestamp, event id); a running count of contributors equal to
-- the line's count marks the last contributor, which takes the remainder.

unit_events as (
    -- COUNT and SUM lines: an event's units are 1, or its value (null counts 0).
    select
        line_no,
        pricing_model,
        quantity,
        amount,
        clamp_adjustment,
        record_seq,
        event_id,
        event_timestamp,
        meter_value,
        cast(case aggregation
            when 'COUNT' then 1
            else coalesce(meter_value, 0)
        end as {{ exact_decimal() }}) as event_units,
        case aggregation
            when 'COUNT' then true
            else meter_value is not null and meter_value <> 0
        end as is_contributor
    from line_events
    where aggregation in ('COUNT', 'SUM')
),

unit_ordered as (
    -- The running total of the line's units up to and including the event (TIERED lines)
    -- and the running count of contributors: one sort.
    select
        *,
        cast(sum(event_units) over (
            partition by line_no
            order by event_timestamp, event_id
            rows between unbounded preceding and current row
        ) as {{ exact_decimal() }}) as units_after,
        sum(case when is_contributor then 1 else 0 end) over (
            partition by line_no
            order by event_timestamp, event_id
            rows between unbounded preceding and current row
        ) as contributors_so_far
    from unit_events
),

value_events as (
    -- MAX, LATEST and UNIQUE_COUNT lines (any other aggregation: no contributor). Their
    -- events carry no units; the value setters share the amount equally.
    select
        line_no,
        aggregation,
        amount,
        record_seq,
        event_id,
        event_timestamp,
        meter_value,
        meter_key,
        cast(0 as {{ exact_decimal() }}) as event_units,
        max(meter_value) over (partition by line_no) as max_value,
        -- Values after the event (none: the latest event with a value).
        count(meter_value) over (
            partition by line_no
            order by event_timestamp, event_id
            rows between 1 following and unbounded following
        ) as later_values,
        row_number() over (
            partition by line_no, meter_key
            order by event_timestamp, event_id
        ) as key_occurrence
    from line_events
    where aggregation is null or aggregation not in ('COUNT', 'SUM')
),

value_contributors as (
    select
        *,
        case aggregation
            when 'MAX' then meter_value is not null and meter_value = max_value
            when 'LATEST' then meter_value is not null and coalesce(later_values, 0) = 0
            when 'UNIQUE_COUNT' then meter_key is not null and key_occurrence = 1
            else false
        end as is_contributor
    from value_events
),

value_ordered as (
    select
        *,
        sum(case when is_contributor then 1 else 0 end) over (
            partition by line_no
        ) as contributor_count,
        sum(case when is_contributor then 1 else 0 end) over (
            partition by line_no
            order by event_timestamp, event_id
            rows between unbounded preceding and current row
        ) as contributors_so_far
    from value_contributors
),

tiered_events as (
    -- Each TIERED event's move of the line's running total, from units_before to units_after.
    select
        line_no,
        event_id,
        cast(units_after - event_units as {{ exact_decimal() }}) as units_before,
        units_after
    from unit_ordered
    where pricing_model = 'TIERED'
),

tiered_line_slabs as (
    select
        l.line_no,
        l.quantity,
        b.slab_index,
        b.start_after,
        b.end_at,
        b.rate,
        b.flat_fee,
        b.package_size
    from usage_lines as l
    inner join slab_bounds as b
        on b.plan_id = l.plan_id
        and b.rate_card_id = l.rate_card_id
    where l.pricing_model = 'TIERED'
),

tiered_package_slab_units as (
    -- The units in each package slab of a TIERED line (whole packages are charged on them).
    select
        line_no,
        slab_index,
        rate,
        package_size,
        cast(case
            when end_at is not null and end_at < quantity then end_at - start_after
            else quantity - start_after
        end as {{ exact_decimal() }}) as slab_units
    from tiered_line_slabs
    where package_size is not null and quantity > start_after
),

tiered_package_slabs as (
    -- Their charges, shared among the events in proportion to their units in the slab.
    select
        line_no,
        slab_index,
        slab_units,
        {{ exact_multiply('rate', packages('slab_units', 'package_size')) }} as package_charge
    from tiered_package_slab_units
),

tiered_crossings as (
    -- Each (event, slab) where the event's move from units_before to units_after enters,
    -- spans or leaves the slab (COUNT and SUM meters, TIERED cards).
    select
        o.line_no,
        o.event_id,
        s.slab_index,
        s.rate,
        s.flat_fee,
        s.package_size,
        cast(
            (case
                when o.units_after <= s.start_after then 0
                when s.end_at is not null and o.units_after >= s.end_at then s.end_at - s.start_after
                else o.units_after - s.start_after
            end)
            - (case
                when o.units_before <= s.start_after then 0
                when s.end_at is not null and o.units_before >= s.end_at then s.end_at - s.start_after
                else o.units_before - s.start_after
            end)
        as {{ exact_decimal() }}) as slab_units_moved,
        (case when o.units_after > s.start_after then 1 else 0 end)
            - (case when o.units_before > s.start_after then 1 else 0 end) as slab_entered
    from tiered_events as o
    inner join tiered_line_slabs as s
        on s.line_no = o.line_no
        and o.units_before <> o.units_after
        and (case when o.units_after > o.units_before then o.units_after else o.units_before end)
            > s.start_after
        and (s.end_at is null
             or (case when o.units_after < o.units_before then o.units_after else o.units_before end)
                < s.end_at)
),

tiered_crossing_shares as (
    select
        c.line_no,
        c.event_id,
        case
            when c.package_size is null
                then {{ exact_multiply('c.rate', 'c.slab_units_moved') }}
            -- (no package row: the line's total ends below the slab, its charge is 0)
            else coalesce({{ apportion('p.package_charge', 'c.slab_units_moved', 'p.slab_units') }}, 0)
        end
        + case c.slab_entered
            when 1 then c.flat_fee
            when -1 then -c.flat_fee
            else cast(0 as {{ exact_decimal() }})
        end as crossing_share
    from tiered_crossings as c
    left join tiered_package_slabs as p
        on p.line_no = c.line_no
        and p.slab_index = c.slab_index
),

tiered_shares as (
    select
        line_no,
        event_id,
        sum(crossing_share) as tiered_share
    from tiered_crossing_shares
    group by line_no, event_id
),

raw_shares as (
    -- Each event's share before the remainder.
    {%- set kept = 'o.line_no, o.record_seq, o.event_id, o.event_timestamp,
        o.meter_value, o.event_units, o.is_contributor, o.contributors_so_far' %}
    -- COUNT and SUM, TIERED: the slabs it moves through, and the clamp by units.
    select
        {{ kept }},
        cast(coalesce(t.tiered_share, 0)
            + case when o.clamp_adjustment <> 0 and o.event_units <> 0
                then {{ apportion('o.clamp_adjustment', 'o.event_units', 'o.quantity') }}
                else 0
            end
        as {{ exact_decimal() }}) as raw_share
    from unit_ordered as o
    left join tiered_shares as t
        on t.line_no = o.line_no
        and t.event_id = o.event_id
    where o.pricing_model = 'TIERED'

    union all

    -- COUNT and SUM, VOLUME: the amount by units.
    select
        {{ kept }},
        cast(case when o.amount <> 0 and o.event_units <> 0
            then {{ apportion('o.amount', 'o.event_units', 'o.quantity') }}
            else 0
        end as {{ exact_decimal() }}) as raw_share
    from unit_ordered as o
    where o.pricing_model is null or o.pricing_model <> 'TIERED'

    union all

    -- MAX, LATEST, UNIQUE_COUNT: equal shares to the value setters.
    select
        {{ kept }},
        cast(case when o.is_contributor
            then {{ apportion('o.amount', '1', 'o.contributor_count') }}
            else 0
        end as {{ exact_decimal() }}) as raw_share
    from value_ordered as o
),

line_shares as (
    -- The line's total of the cut shares and its number of contributors, beside each share
    -- (a window, not a group-by joined back: joined back, DuckDB's estimates made the 14M
    -- shares of a 10M-event night the hash join's build side, past a 4 GiB memory limit).
    select
        *,
        sum(raw_share) over (partition by line_no) as shared,
        sum(case when is_contributor then 1 else 0 end) over (
            partition by line_no
        ) as contributors
    from raw_shares
),

final as (
    -- What the cut shares miss goes to the line's last contributor in event order.
    select
        r.record_seq,
        r.event_id,
        r.event_timestamp,
        l.invoice_id,
        l.account_id,
        l.assignment_id,
        l.plan_id,
        l.rate_card_id,
        l.meter_id,
        l.aggregation,
        l.pricing_model,
        l.catalog_version,
        r.meter_value,
        r.event_units,
        r.is_contributor,
        cast(case
            when r.is_contributor and r.contributors_so_far = r.contributors
                then r.raw_share + (l.amount - r.shared)
            else r.raw_share
        end as {{ exact_decimal() }}) as attributed_amount
    from line_shares as r
    inner join usage_lines as l
        on l.line_no = r.line_no
)

select *{{ rating_window(open_invoice_rows()) }} from final
