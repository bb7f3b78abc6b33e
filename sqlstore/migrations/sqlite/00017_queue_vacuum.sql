-- +goose Up
-- PostgreSQL's 00017 tunes autovacuum for the work-queue tables (dead index
-- entries of rows that left a queue). SQLite updates in place and frees
-- index entries at once: nothing to do here, but the version numbers of
-- both dialects stay in step.
SELECT 1;

-- +goose Down
SELECT 1;
