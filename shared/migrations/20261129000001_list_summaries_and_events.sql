-- List pages show a summary of each job's input (inline bars as a count and range, long texts
-- cut), written by the API at submission, so that a page never reads or sends whole inputs.
-- NULL means the input is short enough to be its own summary.
ALTER TABLE jobs ADD COLUMN input_summary jsonb;

-- Older rows: the rule of JobSpec::summary (shared/src/job/input/summary.rs), in SQL.
WITH cut AS (
    SELECT id,
           CASE WHEN input->'data'->>'source' = 'inline' THEN
               jsonb_set(input, '{data}', jsonb_build_object(
                   'source', 'inline',
                   'bar_count', jsonb_array_length(input->'data'->'bars'),
                   'from', input->'data'->'bars'->0->'time',
                   'to', input->'data'->'bars'->-1->'time'))
           ELSE input END AS summary
    FROM jobs
    WHERE input->'data'->>'source' = 'inline'
       OR char_length(input->>'text') > 200
       OR char_length(input->>'context') > 200
       OR char_length(input->>'question') > 200
)
UPDATE jobs SET input_summary = (
    SELECT jsonb_object_agg(key, CASE
        WHEN key IN ('text', 'context', 'question') AND jsonb_typeof(value) = 'string'
             AND char_length(value #>> '{}') > 200
        THEN to_jsonb(left(value #>> '{}', 200) || '…')
        ELSE value END)
    FROM jsonb_each(cut.summary))
FROM cut WHERE jobs.id = cut.id;

-- Live job events: every statement that changes or deletes jobs notifies the channel
-- `tradeforge_jobs` with the ids it touched (comma-separated, 200 per notification, well under
-- the 8 000-byte payload limit). The API listens on one connection and fans the changes out to
-- its SSE streams, instead of each stream polling. Channels are per database.
CREATE FUNCTION jobs_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text;
BEGIN
    FOR ids IN
        SELECT string_agg(id::text, ',')
        FROM (SELECT id, (row_number() OVER () - 1) / 200 AS chunk FROM changed) numbered
        GROUP BY chunk
    LOOP
        PERFORM pg_notify('tradeforge_jobs', ids);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_updated AFTER UPDATE ON jobs REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_changed();
CREATE TRIGGER jobs_notify_deleted AFTER DELETE ON jobs REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_changed();
