-- Every action try of every workflow run (CONTRACT §2): request, response and error as
-- JSON text, in the order they happened.
{{ config(materialized=view_unless_spark()) }}
select log_id, run_id, attempt, action_order, action, try_number, status, request, response,
       error, started_at, finished_at
from {{ source('billing', 'workflow_action_logs') }}
