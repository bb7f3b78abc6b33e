-- +goose Up
-- The work queues (schedules due, the webhook outbox and its deliveries)
-- are scanned from the front of a partial index on every claim. A row that
-- leaves the queue (executed, relayed, delivered) leaves a dead entry in
-- that index until VACUUM removes it, and every claim walks the dead
-- entries: during a renewal spike of 20,000 schedules a claim took 17 ms of
-- PostgreSQL time and rising. The default autovacuum trigger (20 % of the
-- table changed) lets a table of a million schedules carry 200,000 dead
-- entries; these tables are vacuumed after 1 % (at least 1,000 rows), and
-- without the cost delay, so the dead entries stay few.
ALTER TABLE schedules SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
ALTER TABLE webhook_deliveries SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
ALTER TABLE payments SET (autovacuum_analyze_scale_factor = 0.02);

-- +goose Down
ALTER TABLE schedules RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
    autovacuum_vacuum_cost_delay, autovacuum_analyze_scale_factor);
ALTER TABLE events RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
ALTER TABLE webhook_deliveries RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
ALTER TABLE payments RESET (autovacuum_analyze_scale_factor);
