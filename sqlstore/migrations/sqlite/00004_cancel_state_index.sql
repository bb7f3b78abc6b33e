-- +goose Up
-- The reconciler looks for refunds left pending or of unknown outcome every
-- second; keep that an index lookup however many refunds there are.
CREATE INDEX payment_cancels_unsettled ON payment_cancels (created_at) WHERE state IN ('pending', 'uncertain');

-- +goose Down
DROP INDEX payment_cancels_unsettled;
