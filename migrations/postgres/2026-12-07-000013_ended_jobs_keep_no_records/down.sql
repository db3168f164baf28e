-- Nothing to restore: the rows removed were never to be read again.
SELECT 1;
