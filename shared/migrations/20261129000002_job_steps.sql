-- Completed LLM steps of a job: a retried attempt resumes at the step that failed instead of
-- asking the model everything again. A step is reused only for the very same question
-- (`prompt_hash`: model, prompts and schema), so changed inputs are asked afresh.
CREATE TABLE job_steps (
    job_id       uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    step         text NOT NULL,
    prompt_hash  text NOT NULL,
    value        jsonb NOT NULL,
    usage        jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, step)
);
