package gateway

import (
	"context"
	"time"

	"github.com/billkey/billkey"
)

// This file holds the gateway's plain reads and the bookkeeping the HTTP
// layer needs (idempotent replies, health), so that handlers never reach the
// store past the gateway.

// Payment returns one of a merchant's payments by imp_uid (ENOTFOUND when
// it has none).
func (s *Service) Payment(ctx context.Context, merchantID int64, impUID string) (*billkey.Payment, error) {
	return s.Store.PaymentByImpUID(ctx, merchantID, impUID)
}

// PaymentsByUIDs returns a merchant's payments named by imp_uid or
// merchant_uid, skipping unknown ones.
func (s *Service) PaymentsByUIDs(ctx context.Context, merchantID int64, impUIDs, merchantUIDs []string) ([]*billkey.Payment, error) {
	return s.Store.PaymentsByUIDs(ctx, merchantID, impUIDs, merchantUIDs)
}

// Payments returns one page of the payments f selects, and how many it
// selects in all.
func (s *Service) Payments(ctx context.Context, f billkey.PaymentFilter) ([]*billkey.Payment, int, error) {
	return s.Store.ListPayments(ctx, f)
}

// FindPayment returns a merchant's latest payment for merchant_uid, in the
// given status when status is not empty.
func (s *Service) FindPayment(ctx context.Context, merchantID int64, merchantUID string, status billkey.PaymentStatus) (*billkey.Payment, error) {
	return s.Store.FindPayment(ctx, merchantID, merchantUID, status)
}

// Prepared returns the amount registered in advance for merchant_uid
// (ENOTFOUND when there is none).
func (s *Service) Prepared(ctx context.Context, merchantID int64, merchantUID string) (*billkey.Prepare, error) {
	return s.Store.PrepareByMerchantUID(ctx, merchantID, merchantUID)
}

// ListSchedules returns one page of the scheduled payments f selects, and how
// many it selects in all.
func (s *Service) ListSchedules(ctx context.Context, f billkey.ScheduleFilter) ([]*billkey.Schedule, int, error) {
	return s.Store.ListSchedules(ctx, f)
}

// CustomersByUID returns the merchant's billing-key records named by
// customer_uid, in order, skipping the unknown ones.
func (s *Service) CustomersByUID(ctx context.Context, merchantID int64, customerUIDs []string) ([]*billkey.Customer, error) {
	var out []*billkey.Customer
	for _, uid := range customerUIDs {
		c, err := s.Store.CustomerByUID(ctx, merchantID, uid)
		if billkey.ErrorCode(err) == billkey.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Channels returns a fresh copy of the merchant's channels (not the cached
// list the charges use, so the caller may reorder it).
func (s *Service) Channels(ctx context.Context, merchantID int64) ([]*billkey.Channel, error) {
	return s.Store.Channels(ctx, merchantID)
}

// MerchantByImpCode returns the merchant with the given 가맹점 식별코드.
func (s *Service) MerchantByImpCode(ctx context.Context, impCode string) (*billkey.Merchant, error) {
	return s.Store.MerchantByImpCode(ctx, impCode)
}

// Merchants returns every merchant.
func (s *Service) Merchants(ctx context.Context) ([]*billkey.Merchant, error) {
	return s.Store.ListMerchants(ctx)
}

// BeginIdempotent claims an Idempotency-Key for a request whose parameters
// hash to requestHash: it returns the stored reply of a finished earlier
// request, nil when this request is the first (see IdempotencyStore).
func (s *Service) BeginIdempotent(ctx context.Context, merchantID int64, key string, requestHash []byte) (*billkey.StoredResponse, error) {
	return s.Store.BeginIdempotent(ctx, merchantID, key, requestHash)
}

// FinishIdempotent stores the reply of the request holding key.
func (s *Service) FinishIdempotent(ctx context.Context, merchantID int64, key string, resp billkey.StoredResponse) error {
	return s.Store.FinishIdempotent(ctx, merchantID, key, resp)
}

// AbandonIdempotent releases key after a failed request, so that a retry
// runs again.
func (s *Service) AbandonIdempotent(ctx context.Context, merchantID int64, key string) error {
	return s.Store.AbandonIdempotent(ctx, merchantID, key)
}

// Health is the database's state as /healthz reports it.
type Health struct {
	Dialect    string // "sqlite" or "postgres"
	Durability string
}

// Health pings the database.
func (s *Service) Health(ctx context.Context) (Health, error) {
	if err := s.Store.Ping(ctx); err != nil {
		return Health{}, err
	}
	return Health{Dialect: s.Store.DialectName(), Durability: s.Store.Durability(ctx)}, nil
}

// CheckDatabase is /readyz's look at the database: whether this node can
// write (a probe row per node) and whether every migration is applied.
func (s *Service) CheckDatabase(ctx context.Context, node string) (writeErr, migrationsErr error) {
	return s.Store.ProbeWrite(ctx, node), s.Store.MigrationsCurrent(ctx)
}

// OpsSnapshot counts the waiting work (unknown outcomes, webhook backlog,
// due schedules, open windows), for metrics.
func (s *Service) OpsSnapshot(ctx context.Context, now time.Time) (billkey.OpsSnapshot, error) {
	return s.Store.OpsSnapshot(ctx, now)
}
