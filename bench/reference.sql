-- The benchmark's reference: the nightly run's essential work written by hand, as directly as
-- DuckDB allows, for the demo-shaped catalog of `tallyhouse generate` (its ten meters are
-- compiled by hand below; slabs, fixed fees and plans come from pricing.yaml through
-- bench/reference.py). It shares no code with the pipeline. Cold run only: no finalized
-- cycles, so no PAST_GRACE_PERIOD; credits and the wallet are not computed (see
-- BENCHMARKS.md, "What the reference covers").
--
-- Placeholders filled by bench/reference.py: records_source (the landing files as rows:
-- filename, line, id, schemaName, timestamp, accountId, attributes, dimensions as text),
-- catalog (the catalog folder), as_of (the run's clock).

SET VARIABLE as_of = TIMESTAMPTZ '{{ as_of }}';

-- Exact money helpers: scaled integers where DuckDB's DECIMAL / DECIMAL would be a DOUBLE.
CREATE OR REPLACE MACRO scaled12(x) AS (x * 1000000000000)::HUGEINT;
CREATE OR REPLACE MACRO packages(units, size) AS
    (scaled12(units) + scaled12(size) - 1) // scaled12(size);
CREATE OR REPLACE MACRO unscale12(x) AS
    (x::DECIMAL(38,0) * 0.000000000001::DECIMAL(13,12))::DECIMAL(38,12);
-- num / den (den > 0, an integer) half away from zero at 12 places, as DECIMAL(38,12).
CREATE OR REPLACE MACRO div12(num, den) AS
    unscale12(sign(scaled12(num)) * ((2 * abs(scaled12(num)) + den) // (2 * den)));
-- One line rounded half away from zero to its currency's minor unit.
CREATE OR REPLACE MACRO money(x, places) AS CASE places
    WHEN 0 THEN round(x, 0)::DECIMAL(38,12) WHEN 3 THEN round(x, 3)::DECIMAL(38,12)
    ELSE round(x, 2)::DECIMAL(38,12) END;

-- 1. The catalog's small tables.
CREATE OR REPLACE TABLE accounts AS
SELECT account_id, customer_id, currency, coalesce(nullif(timezone, ''), 'UTC') AS timezone, aliases
FROM read_csv('{{ catalog }}/accounts.csv', all_varchar = true);

CREATE OR REPLACE TABLE account_refs AS
SELECT account_id AS account_ref, account_id FROM accounts
UNION ALL
SELECT DISTINCT trim(alias), account_id
FROM (SELECT account_id, unnest(string_split(aliases, ';')) AS alias FROM accounts)
WHERE trim(alias) <> '';

CREATE OR REPLACE TABLE assignments AS
SELECT assignment_id, account_id, plan_id,
       effective_from::DATE AS effective_from,
       nullif(effective_until, '')::DATE AS effective_until
FROM read_csv('{{ catalog }}/plan_assignments.csv', all_varchar = true);

CREATE OR REPLACE TABLE currencies (currency VARCHAR, minor_units INTEGER);
INSERT INTO currencies VALUES ('USD', 2), ('EUR', 2), ('GBP', 2), ('JPY', 0), ('KWD', 3);

-- 2. Invoice periods: every monthly cycle of every assignment, cut by the assignment's
-- local days, laid out to one day past the clock (events may be dated a day ahead).
CREATE OR REPLACE TABLE periods AS
WITH spans AS (
    SELECT a.*, acc.timezone, p.anchor_day, p.grace_days, p.currency,
           -- the start day of the cycle that holds effective_from
           CASE WHEN day(a.effective_from) >= p.anchor_day
                THEN make_date(year(a.effective_from), month(a.effective_from), p.anchor_day)
                ELSE make_date(year(a.effective_from), month(a.effective_from), p.anchor_day)
                     - INTERVAL 1 MONTH END::DATE AS first_cycle_day
    FROM assignments a
    JOIN accounts acc USING (account_id)
    JOIN price_plans p USING (plan_id)
),
cycles AS (
    SELECT *, (first_cycle_day + to_months(k))::DATE AS cycle_start_day,
           (first_cycle_day + to_months(k + 1))::DATE AS cycle_end_day
    FROM spans,
         range(0, datediff('month', first_cycle_day,
                           (getvariable('as_of') + INTERVAL 3 DAY)::DATE) + 1) AS t(k)
),
pieces AS (
    SELECT *,
           greatest(cycle_start_day, effective_from) AS piece_start_day,
           CASE WHEN effective_until IS NULL THEN cycle_end_day
                ELSE least(cycle_end_day, (effective_until + 1)::DATE) END AS piece_end_day
    FROM cycles
),
bounds AS (
    SELECT account_id, assignment_id, plan_id, currency, grace_days,
           timezone(timezone, cycle_start_day::TIMESTAMP) AS cycle_start,
           timezone(timezone, cycle_end_day::TIMESTAMP) AS cycle_end,
           timezone(timezone, piece_start_day::TIMESTAMP) AS period_start,
           timezone(timezone, piece_end_day::TIMESTAMP) AS period_end
    FROM pieces
    WHERE piece_start_day < piece_end_day
)
SELECT *,
       (epoch(period_end) - epoch(period_start))::BIGINT AS period_seconds,
       (epoch(cycle_end) - epoch(cycle_start))::BIGINT AS cycle_seconds
FROM bounds
WHERE period_start < getvariable('as_of') + INTERVAL 1 DAY;

-- 3. Load the records once, in receipt order (file name, then line or row).
CREATE OR REPLACE TABLE records AS
SELECT (list_position({{ files }}, filename)::BIGINT << 32) + line AS record_seq,
       parse_filename(filename) || ':' || line AS raw_ref,
       parse_filename(filename) AS source_file,
       id, schemaName AS schema_name, "timestamp" AS timestamp_text, accountId AS account_ref,
       attributes, dimensions, read_problem
FROM ({{ records_source }});
DROP TABLE IF EXISTS landing_lines;
-- From here every row carries its record_seq, so no table needs its rows in insertion order
-- (a JSONL line's number came from it above); keeping that order made step 7 spill.
SET preserve_insertion_order = false;

-- 4. Parse and validate: attributes as a name → JSON map from either wire shape.
CREATE OR REPLACE TABLE parsed AS
WITH attrs AS (
    SELECT *,
           try_cast(timestamp_text AS TIMESTAMPTZ) AS event_ts,
           CASE WHEN attributes IS NULL THEN MAP {}::MAP(VARCHAR, JSON)
                WHEN json_type(attributes) = 'ARRAY' THEN map_from_entries(list_transform(
                    from_json(attributes, '[{"name":"VARCHAR","value":"JSON"}]'),
                    lambda e: {'k': e.name, 'v': e.value}))
                ELSE (attributes::JSON::MAP(VARCHAR, JSON)) END AS attrs,
           (dimensions::JSON::MAP(VARCHAR, VARCHAR)) AS dims
    FROM records
),
checked AS (
    SELECT *,
           list_bool_or(list_transform(map_values(attrs), lambda v:
               v IS NOT NULL AND json_type(v) <> 'NULL'
               AND try_cast(v ->> '$' AS DECIMAL(38,12)) IS NULL)) AS bad_attribute
    FROM attrs
)
SELECT record_seq, raw_ref, source_file, schema_name, account_ref, event_ts, attrs, dims,
       coalesce(id, 'sha256:' || sha256(concat_ws('|', schema_name, timestamp_text,
                account_ref, attributes, dimensions))) AS event_id,
       md5(concat_ws('|', schema_name, event_ts, account_ref,
           list_sort(list_transform(map_entries(attrs),
               lambda e: e.key || '=' || json_type(e.value) || ':' ||
                         coalesce(try_cast(e.value ->> '$' AS DECIMAL(38,12))::VARCHAR, ''))),
           dimensions)) AS payload_hash,
       CASE WHEN read_problem IS NOT NULL THEN read_problem
            WHEN timestamp_text IS NULL THEN 'missing timestamp'
            WHEN account_ref IS NULL THEN 'missing accountId'
            WHEN schema_name IS NULL THEN 'missing schemaName'
            WHEN id IS NOT NULL AND (length(id) < 1 OR length(id) > 512) THEN 'bad id'
            WHEN event_ts IS NULL THEN 'bad timestamp'
            WHEN coalesce(bad_attribute, false) THEN 'non-numeric attribute'
            WHEN event_ts > getvariable('as_of') + INTERVAL 1 DAY THEN 'future timestamp'
       END AS invalid_reason
FROM checked;
DROP TABLE records;

-- 5. Dedupe (the first valid record of an id is the one billed), resolve account, schema,
-- plan period.
CREATE OR REPLACE TABLE statused AS
WITH repeated_ids AS (
    -- Only an id seen more than once can be a duplicate: the first valid record of each is
    -- found over these few, narrow rows (a window over every full-width record spilled tens
    -- of GB at 100M). A record whose id is seen once is its own first (if valid).
    SELECT event_id FROM parsed GROUP BY event_id HAVING count(*) > 1
),
firsts AS (
    SELECT event_id,
           min(record_seq) FILTER (WHERE invalid_reason IS NULL) AS first_seq,
           arg_min(payload_hash, (invalid_reason IS NOT NULL, record_seq)) AS first_payload
    FROM parsed SEMI JOIN repeated_ids USING (event_id)
    GROUP BY event_id
),
first_valid AS (
    SELECT p.*,
           CASE WHEN f.event_id IS NOT NULL THEN f.first_seq
                WHEN p.invalid_reason IS NULL THEN p.record_seq END AS first_seq,
           coalesce(f.first_payload, p.payload_hash) AS first_payload
    FROM parsed p
    LEFT JOIN firsts f USING (event_id)
),
schemas AS (
    SELECT schema_name, list(attribute) AS declared FROM schema_attributes GROUP BY ALL
),
resolved AS (
    SELECT f.*, r.account_id, s.declared
    FROM first_valid f
    LEFT JOIN account_refs r ON r.account_ref = f.account_ref
    LEFT JOIN schemas s ON s.schema_name = f.schema_name
)
SELECT r.* EXCLUDE (declared, first_seq, first_payload, invalid_reason),
       p.assignment_id, p.plan_id, p.period_start, p.cycle_start, p.cycle_end,
       CASE WHEN r.first_seq < r.record_seq AND r.payload_hash = r.first_payload THEN 'DUPLICATE'
            WHEN r.first_seq < r.record_seq THEN 'DUPLICATE_CONFLICT'
            WHEN r.invalid_reason IS NOT NULL THEN 'INVALID'
            WHEN r.account_id IS NULL THEN 'ACCOUNT_NOT_FOUND'
            WHEN r.declared IS NULL THEN 'SCHEMA_NOT_DEFINED'
            WHEN NOT list_has_all(r.declared, map_keys(r.attrs)) THEN 'INVALID'
            WHEN p.assignment_id IS NULL THEN 'NO_PRICE_PLAN'
            ELSE 'PRICED'
       END AS status,
       coalesce(r.invalid_reason, CASE WHEN NOT list_has_all(r.declared, map_keys(r.attrs))
                                       THEN 'undeclared attribute' END) AS status_reason
FROM resolved r
LEFT JOIN periods p
    ON p.account_id = r.account_id
   AND r.event_ts >= p.period_start AND r.event_ts < p.period_end;
DROP TABLE parsed;

-- 6. Meter matches, compiled by hand from the catalog's JSON Logic (JavaScript truthiness).
CREATE OR REPLACE MACRO attr(m, name) AS
    CASE WHEN json_type(m[name]) IN ('NULL') THEN NULL
         ELSE try_cast(m[name] ->> '$' AS DECIMAL(38,12)) END;
CREATE OR REPLACE TABLE meter_matches AS
WITH candidates AS (
    -- unnest in the select list streams: a LATERAL subquery over the record's columns
    -- is decorrelated into a join on them (attrs and dims included)
    SELECT record_seq, event_id, event_ts, account_id, assignment_id, period_start,
           unnest(CASE schema_name
            WHEN 'llm_call' THEN [
                {'meter_id': 'llm_calls', 'units': NULL::DECIMAL(38,12), 'is_text': NULL::BOOLEAN, 'hit': true},
                {'meter_id': 'llm_input_tokens', 'units': attr(attrs, 'input_tokens'), 'is_text': NULL, 'hit': true},
                {'meter_id': 'llm_input_tokens_opus', 'units': attr(attrs, 'input_tokens'), 'is_text': NULL,
                 'hit': coalesce(dims['model'] = 'opus', false)},
                {'meter_id': 'llm_input_tokens_other', 'units': attr(attrs, 'input_tokens'), 'is_text': NULL,
                 'hit': coalesce(dims['model'] IN ('sonnet', 'haiku'), false)},
                {'meter_id': 'llm_output_tokens', 'units': attr(attrs, 'output_tokens'), 'is_text': NULL, 'hit': true}]
            WHEN 'api_request' THEN [
                {'meter_id': 'api_requests', 'units': NULL, 'is_text': NULL,
                 'hit': dims['endpoint'] IS DISTINCT FROM '/v1/health'},
                {'meter_id': 'api_egress_gb',
                 'units': (attr(attrs, 'bytes') * 0.000000001::DECIMAL(10,9))::DECIMAL(38,12),
                 'is_text': NULL, 'hit': dims['endpoint'] IS DISTINCT FROM '/v1/health'},
                -- attribute values are exact decimals whatever their wire form (CONTRACT
                -- 1.1), so "10001" and 10001 are one user, and "0" is falsy like 0
                {'meter_id': 'active_users', 'units': attr(attrs, 'user_id'), 'is_text': false,
                 'hit': dims['endpoint'] IS DISTINCT FROM '/v1/health'
                        AND coalesce(attr(attrs, 'user_id') <> 0, false)}]
            WHEN 'storage_snapshot' THEN [
                {'meter_id': 'storage_peak_gb', 'units': attr(attrs, 'gb_stored'), 'is_text': NULL, 'hit': true},
                {'meter_id': 'storage_latest_gb', 'units': attr(attrs, 'gb_stored'), 'is_text': NULL, 'hit': true}]
           END) AS m
    FROM statused
    WHERE status = 'PRICED'
)
SELECT record_seq, event_id, event_ts, account_id, assignment_id, period_start,
       m.meter_id, m.units, m.is_text
FROM candidates
WHERE m.hit;

-- 7. Usage per invoice × meter (COUNT, SUM, MAX, UNIQUE_COUNT, LATEST; null values count
-- for COUNT only).
-- An event's weight in its line's revenue (step 12): its units for SUM meters, 1 for others.
CREATE OR REPLACE MACRO share_weight(meter_id, units) AS
    CASE WHEN meter_id IN ('llm_calls', 'api_requests', 'storage_peak_gb',
                           'storage_latest_gb', 'active_users') THEN 1::DECIMAL(38,12)
         ELSE coalesce(units, 0) END;
CREATE OR REPLACE TABLE usage_by_invoice AS
WITH per_meter AS (
    SELECT account_id, assignment_id, period_start, meter_id,
           CASE meter_id
               WHEN 'llm_calls' THEN count(*)::DECIMAL(38,12)
               WHEN 'api_requests' THEN count(*)::DECIMAL(38,12)
               WHEN 'storage_peak_gb' THEN max(units)
               -- filtered to its meter: a group's CASE picks one aggregate, but all of them
               -- run on every group
               WHEN 'storage_latest_gb' THEN arg_max(units, (event_ts, event_id))
                   FILTER (units IS NOT NULL AND meter_id = 'storage_latest_gb')
               WHEN 'active_users' THEN NULL  -- from users below
               ELSE coalesce(sum(units), 0)
           END AS units,
           -- what step 12 divides the line's revenue by: the weights of its events
           sum(share_weight(meter_id, units)) AS weight_total
    FROM meter_matches
    GROUP BY account_id, assignment_id, period_start, meter_id
),
users AS (
    -- UNIQUE_COUNT by a plain GROUP BY over the distinct pairs: a DISTINCT aggregate ran the
    -- 100M reference out of memory at 3 GiB
    SELECT account_id, assignment_id, period_start, count(*)::DECIMAL(38,12) AS users
    FROM (SELECT DISTINCT account_id, assignment_id, period_start, is_text, units
          FROM meter_matches WHERE meter_id = 'active_users' AND units IS NOT NULL)
    GROUP BY account_id, assignment_id, period_start
)
SELECT p.account_id, p.assignment_id, p.period_start, p.meter_id,
       CASE WHEN p.meter_id = 'active_users' THEN coalesce(u.users, 0) ELSE p.units END AS units,
       p.weight_total
FROM per_meter p
LEFT JOIN users u
    ON p.meter_id = 'active_users' AND u.account_id = p.account_id
   AND u.assignment_id = p.assignment_id AND u.period_start = p.period_start;

-- 8. Invoices that exist: begun by the clock, or holding usage.
CREATE OR REPLACE TABLE invoices AS
SELECT p.*, c.minor_units,
       md5(p.account_id || '|' || p.assignment_id || '|' || p.period_start) AS invoice_id
FROM periods p
JOIN currencies c USING (currency)
WHERE p.period_start < getvariable('as_of')
   OR EXISTS (SELECT 1 FROM usage_by_invoice u
              WHERE u.account_id = p.account_id AND u.assignment_id = p.assignment_id
                AND u.period_start = p.period_start);

-- 9. Rating: one USAGE line per usage rate card of the plan (0 when unused).
CREATE OR REPLACE TABLE usage_lines AS
WITH card_usage AS (
    SELECT i.invoice_id, i.account_id, i.assignment_id, i.period_start, i.minor_units,
           c.rate_card_id, c.meter_id, c.pricing_model, c.minimum, c.maximum,
           coalesce(u.units, 0) AS units, greatest(coalesce(u.units, 0), 0) AS rated_units
    FROM invoices i
    JOIN rate_cards c ON c.plan_id = i.plan_id AND c.rate_card_type = 'USAGE'
    LEFT JOIN usage_by_invoice u
        ON u.account_id = i.account_id AND u.assignment_id = i.assignment_id
       AND u.period_start = i.period_start AND u.meter_id = c.meter_id
),
slab_bounds AS (
    SELECT *, lead(start_after) OVER (PARTITION BY rate_card_id ORDER BY slab_index) AS end_before,
           first_value(start_after) OVER (PARTITION BY rate_card_id ORDER BY slab_index) AS allowance
    FROM slabs
),
slab_charges AS (
    SELECT cu.invoice_id, cu.rate_card_id,
           CASE WHEN cu.pricing_model = 'TIERED' THEN
                    greatest(least(cu.rated_units, coalesce(s.end_before, cu.rated_units)) - s.start_after, 0)
                WHEN cu.rated_units > s.start_after
                     AND (s.end_before IS NULL OR cu.rated_units <= s.end_before)
                    THEN cu.rated_units - s.allowance
                ELSE 0 END AS slab_units,
           s.rate, s.flat_fee, s.package_size
    FROM card_usage cu
    JOIN slab_bounds s USING (rate_card_id)
),
rated AS (
    SELECT invoice_id, rate_card_id,
           sum(CASE WHEN slab_units <= 0 THEN 0
                    ELSE (CASE WHEN package_size IS NULL THEN slab_units * rate
                               ELSE packages(slab_units, package_size) * rate END)::DECIMAL(38,12)
                         + coalesce(flat_fee, 0) END) AS amount
    FROM slab_charges
    GROUP BY ALL
),
clamped AS (
    SELECT cu.invoice_id, cu.rate_card_id, cu.meter_id, cu.minor_units, cu.units AS quantity,
           CASE WHEN cu.units <= 0 THEN 0
                WHEN r.amount < cu.minimum THEN cu.minimum
                WHEN r.amount > cu.maximum THEN cu.maximum
                ELSE r.amount END::DECIMAL(38,12) AS revenue
    FROM card_usage cu
    JOIN rated r USING (invoice_id, rate_card_id)
)
SELECT *, money(revenue, minor_units) AS amount FROM clamped;

-- 10. Fixed fees (prorated by the piece's seconds when asked) and the commitment.
CREATE OR REPLACE TABLE fixed_lines AS
SELECT *, money(amount, minor_units) AS line_amount FROM (
SELECT i.invoice_id, c.rate_card_id, c.rate_card_type, i.minor_units,
       CASE WHEN i.period_seconds = i.cycle_seconds OR NOT (c.proration OR c.rate_card_type = 'MINIMUM_COMMITMENT')
            THEN c.amount::DECIMAL(38,12)
            ELSE div12(c.amount * i.period_seconds, i.cycle_seconds) END AS amount
FROM invoices i
JOIN rate_cards c ON c.plan_id = i.plan_id AND c.rate_card_type IN ('FIXED_FEE', 'MINIMUM_COMMITMENT'));

-- 11. Pricing rules of the three plans, compiled by hand, then the subtotal and true-up.
CREATE OR REPLACE TABLE priced_invoices AS
WITH rev AS (
    SELECT invoice_id,
           map_from_entries(list({'k': rate_card_id, 'v': revenue})) AS revenue,
           map_from_entries(list({'k': rate_card_id, 'v': quantity})) AS usage,
           sum(amount) AS usage_total
    FROM usage_lines GROUP BY ALL
),
fees AS (
    SELECT invoice_id,
           sum(amount) FILTER (rate_card_type = 'FIXED_FEE') AS fees_exact,
           sum(line_amount) FILTER (rate_card_type = 'FIXED_FEE') AS fees_total,
           sum(line_amount) FILTER (rate_card_type = 'MINIMUM_COMMITMENT') AS commitment
    FROM fixed_lines GROUP BY ALL
),
base AS (
    SELECT i.invoice_id, i.account_id, i.assignment_id, i.plan_id, i.currency, i.minor_units, i.period_start,
           i.period_end, i.period_seconds, rev.revenue, rev.usage,
           coalesce(rev.usage_total, 0) + coalesce(fees.fees_total, 0) AS card_lines,
           coalesce(fees.fees_exact, 0) AS fees_exact, fees.commitment,
           list_sum(map_values(rev.revenue)) AS revenue_exact
    FROM invoices i
    LEFT JOIN rev USING (invoice_id)
    LEFT JOIN fees USING (invoice_id)
),
deltas AS (
    -- The rule lines' exact inputs: scale_token_discount's UPDATE delta (10% off input
    -- tokens above 1,000) and growth_loyalty's ADD (3% above 500, at most 150) read the
    -- unrounded revenues and fees.
    SELECT *,
           CASE WHEN plan_id = 'scale_usd' AND revenue['scale_input_tokens'] > 1000
                THEN revenue['scale_input_tokens'] * 0.9 - revenue['scale_input_tokens']
           END AS scale_discount,
           CASE WHEN plan_id = 'growth_eur' AND currency = 'EUR' AND revenue_exact + fees_exact > 500
                THEN -least((revenue_exact + fees_exact) * 0.03, 150)
           END AS growth_loyalty
    FROM base
),
rules AS (
    SELECT *,
        CASE plan_id
            -- starter_api_cap: UPDATE revenue.starter_api_requests to 200 when above 200
            WHEN 'starter_usd' THEN
                CASE WHEN revenue['starter_api_requests'] > 200
                     THEN money(200 - revenue['starter_api_requests'], minor_units) ELSE 0 END
            -- scale_token_discount, then scale_premium_support: max(5% of subtotal, 100)
            WHEN 'scale_usd' THEN
                coalesce(money(scale_discount, minor_units), 0)
                + money(greatest((revenue_exact + fees_exact + coalesce(scale_discount, 0)) * 0.05, 100), minor_units)
            -- growth_loyalty, then growth_short_cycle_calls (calls free in pieces under 7 days)
            WHEN 'growth_eur' THEN
                coalesce(money(growth_loyalty, minor_units), 0)
                + CASE WHEN period_seconds < 7 * 86400 AND usage['growth_llm_calls'] > 0
                       THEN money(-revenue['growth_llm_calls'], minor_units) ELSE 0 END
            ELSE 0 END AS rule_lines
    FROM deltas
)
SELECT invoice_id, account_id, assignment_id, plan_id, currency, period_start, period_end,
       greatest(card_lines + rule_lines, 0) AS subtotal,
       CASE WHEN commitment IS NULL THEN 0
            ELSE greatest(commitment - greatest(card_lines + rule_lines, 0), 0) END
           AS minimum_commitment_true_up
FROM rules;

-- 12. One pipeline-log row per record, with its revenue: each event's share of its usage
-- lines, in proportion to its units (COUNT: one unit each; MAX, LATEST, UNIQUE_COUNT: an
-- equal share for every event of the meter). The pipeline attributes TIERED slabs
-- marginally in event order; the sum per line is the same.
CREATE OR REPLACE TABLE event_revenue AS
WITH line_shares AS (
    -- per invoice × meter: its line's revenue (none when the plan does not price the meter:
    -- METERED, revenue not computed) and the weights it is shared by (step 7), so the
    -- matches need no window over all of them
    SELECT u.account_id, u.assignment_id, u.period_start, u.meter_id, i.invoice_id,
           l.revenue, u.weight_total
    FROM usage_by_invoice u
    JOIN invoices i USING (account_id, assignment_id, period_start)
    LEFT JOIN usage_lines l ON l.invoice_id = i.invoice_id AND l.meter_id = u.meter_id
)
SELECT m.record_seq, any_value(s.invoice_id) AS invoice_id,
       -- no DISTINCT aggregate over 100M groups: it cannot spill
       list_sort(list_distinct(list(m.meter_id))) AS matched_meter_ids,
       bool_or(s.revenue IS NOT NULL) AS revenue_computed,
       sum(CASE WHEN s.revenue IS NULL OR s.weight_total = 0 THEN 0
                ELSE unscale12(scaled12(s.revenue) * scaled12(share_weight(m.meter_id, m.units))
                               // scaled12(s.weight_total)) END) AS revenue
FROM meter_matches m
JOIN line_shares s USING (account_id, assignment_id, period_start, meter_id)
GROUP BY m.record_seq;

CREATE OR REPLACE TABLE pipeline_log AS
SELECT s.event_id, s.raw_ref, s.source_file, getvariable('as_of') AS received_at,
       s.event_ts AS event_timestamp, s.schema_name, s.account_id,
       CASE WHEN s.status = 'PRICED' AND e.record_seq IS NULL THEN 'NO_MATCHING_METERS'
            WHEN s.status = 'PRICED' THEN 'METERED' ELSE s.status END AS status,
       s.status_reason, e.matched_meter_ids, s.plan_id, s.assignment_id, s.cycle_start,
       s.cycle_end, coalesce(e.revenue, 0) AS revenue, e.invoice_id
FROM statused s
LEFT JOIN event_revenue e USING (record_seq);
