-- A job that ended (finished, or failed or given up) keeps no replies waiting for a parent:
-- nothing reads them again. The store now forgets them when it saves the end; this clears
-- what jobs that ended before left behind.
DELETE FROM import_deferred WHERE job_id IN (SELECT id FROM jobs WHERE state IN ('FINISHED', 'FAILED'));
