package gateway

import (
	"context"
	"time"

	"github.com/billkey/billkey"
)

// Store is everything the gateway needs of persistence, one small interface
// per aggregate. *sqlstore.Store implements it (asserted by the composition
// root, internal/cli); tests use in-memory fakes.
type Store interface {
	PaymentStore
	PrepareStore
	IdempotencyStore
	CustomerStore
	ScheduleStore
	SubscriptionStore
	WindowStore
	WebhookStore
	MerchantStore
	OrphanStore
	OpsStore
}

// PaymentStore is the payments aggregate: payments, their cancels and
// refunds, the reconciliation of unknown outcomes, and scheduled runs' payment rows.
type PaymentStore interface {
	CreatePayment(ctx context.Context, p *billkey.Payment) error
	FinishPayment(ctx context.Context, p *billkey.Payment, ev *billkey.Event) (bool, error)
	MarkUncertain(ctx context.Context, paymentID int64, reconcileAfter time.Time) error
	PaymentByID(ctx context.Context, id int64) (*billkey.Payment, error)
	PaymentByImpUID(ctx context.Context, merchantID int64, impUID string) (*billkey.Payment, error)
	FindPayment(ctx context.Context, merchantID int64, merchantUID string, status billkey.PaymentStatus) (*billkey.Payment, error)
	PaymentsByUIDs(ctx context.Context, merchantID int64, impUIDs, merchantUIDs []string) ([]*billkey.Payment, error)
	ListPayments(ctx context.Context, f billkey.PaymentFilter) ([]*billkey.Payment, int, error)
	RunPayment(ctx context.Context, merchantID int64, merchantUID string, prior int64) (*billkey.Payment, error)
	SkipRunPayment(ctx context.Context, id int64, owner string, paymentID int64) (bool, error)
	ReserveCancel(ctx context.Context, paymentID int64, req billkey.CancelRequest) (*billkey.Payment, *billkey.Cancel, error)
	CompleteCancel(ctx context.Context, c *billkey.Cancel, ev *billkey.Event) (*billkey.Payment, error)
	FailCancel(ctx context.Context, c *billkey.Cancel) error
	MarkCancelUncertain(ctx context.Context, c *billkey.Cancel) error
	MarkStaleCancelsUncertain(ctx context.Context, before time.Time) (int64, error)
	DeferReconcile(ctx context.Context, paymentID int64, attempts int, next time.Time) error
	UncertainPayments(ctx context.Context, now, staleBefore time.Time, limit int) ([]*billkey.Payment, error)
	UncertainFullRefunds(ctx context.Context, before time.Time, limit int) ([]*billkey.Cancel, error)
}

// PrepareStore holds pre-registered amounts (payments/prepare).
type PrepareStore interface {
	CreatePrepare(ctx context.Context, p *billkey.Prepare) error
	PrepareByMerchantUID(ctx context.Context, merchantID int64, merchantUID string) (*billkey.Prepare, error)
	UpdatePrepare(ctx context.Context, p *billkey.Prepare) error
}

// IdempotencyStore remembers the replies of requests sent with an
// Idempotency-Key.
type IdempotencyStore interface {
	BeginIdempotent(ctx context.Context, merchantID int64, key string, requestHash []byte) (*billkey.StoredResponse, error)
	FinishIdempotent(ctx context.Context, merchantID int64, key string, resp billkey.StoredResponse) error
	AbandonIdempotent(ctx context.Context, merchantID int64, key string) error
	ExpireIdempotencyKeys(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

// CustomerStore is the customers aggregate: billing keys, sealed.
type CustomerStore interface {
	CustomerByUID(ctx context.Context, merchantID int64, customerUID string) (*billkey.Customer, error)
	// CustomerForCharge reads the customer and the amounts prepared for
	// merchantUID (nil when none) together.
	CustomerForCharge(ctx context.Context, merchantID int64, customerUID, merchantUID string) (*billkey.Customer, *billkey.Prepare, error)
	SaveCustomer(ctx context.Context, c *billkey.Customer) (replaced bool, err error)
	DeleteCustomer(ctx context.Context, merchantID int64, customerUID string) (*billkey.Customer, error)
	BillingKeyBlobs(ctx context.Context) ([]billkey.KeyBlob, error)
	ReplaceKeyBlob(ctx context.Context, b billkey.KeyBlob, newBlob []byte) error
}

// ScheduleStore is the scheduled payments aggregate.
type ScheduleStore interface {
	CreateSchedules(ctx context.Context, scs []*billkey.Schedule) error
	ScheduleByMerchantUID(ctx context.Context, merchantID int64, merchantUID string) (*billkey.Schedule, error)
	ListSchedules(ctx context.Context, f billkey.ScheduleFilter) ([]*billkey.Schedule, int, error)
	OrdersTaken(ctx context.Context, merchantID int64, merchantUIDs []string) (scheduled, paid map[string]bool, err error)
	MoveSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) (*billkey.Schedule, error)
	RearmSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time, owner string, leaseUntil time.Time) (*billkey.Schedule, error)
	RearmDeclined(ctx context.Context, merchantID int64, merchantUID string, at time.Time, declinedImpUID string) (*billkey.Schedule, error)
	RevokeSchedules(ctx context.Context, merchantID int64, customerUID string, merchantUIDs []string) ([]*billkey.Schedule, error)
	ClaimDueSchedules(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*billkey.Schedule, error)
	RenewScheduleLease(ctx context.Context, id int64, owner string, leaseUntil time.Time) (bool, error)
	DeferSchedule(ctx context.Context, id int64, owner string, runAfter time.Time, reason string) error
	FinishSchedule(ctx context.Context, id int64, r billkey.ScheduleResult, ev *billkey.Event) (bool, error)
}

// SubscriptionStore is the subscriptions aggregate, with test clocks.
type SubscriptionStore interface {
	CreateSubscription(ctx context.Context, sub *billkey.Subscription) error
	SubscriptionByID(ctx context.Context, merchantID, id int64) (*billkey.Subscription, error)
	ListSubscriptions(ctx context.Context, merchantID int64, customerUID string, offset, limit int) ([]*billkey.Subscription, int, error)
	UpdateSubscription(ctx context.Context, prev, sub *billkey.Subscription, evs []billkey.SubscriptionEvent) (bool, error)
	DeleteSubscription(ctx context.Context, merchantID, id int64) error
	RearmSubscriptionSchedule(ctx context.Context, merchantID int64, merchantUID string, at time.Time) error
	StalledSubscriptions(ctx context.Context, before time.Time, limit int) ([]*billkey.Schedule, error)
	CreateTestClock(ctx context.Context, c *billkey.TestClock) error
	TestClockByID(ctx context.Context, merchantID, id int64) (*billkey.TestClock, error)
	SetClock(ctx context.Context, id int64, at time.Time, status string) error
	BeginAdvance(ctx context.Context, id int64, staleAfter time.Duration) (bool, error)
	ClaimClockSchedule(ctx context.Context, clockID int64, until time.Time, owner string, now, leaseUntil time.Time) (*billkey.Schedule, error)
	CreateCardUpdateLink(ctx context.Context, l *billkey.CardUpdateLink) error
	CardUpdateLinkByToken(ctx context.Context, tokenHash []byte) (*billkey.CardUpdateLink, error)
	CardUpdateLinkByID(ctx context.Context, merchantID, id int64) (*billkey.CardUpdateLink, error)
	UseCardUpdateLink(ctx context.Context, id int64, impUID, retryImpUID string, now time.Time) (bool, error)
	ReleaseCardUpdateLink(ctx context.Context, id int64, impUID string) error
}

// WebhookStore is the webhook outbox: events relayed into deliveries,
// their attempts, and the merchants' webhook settings and signing secrets.
type WebhookStore interface {
	RelayEvents(ctx context.Context, limit int, build func(billkey.RelayedEvent) billkey.NewDelivery) (int, error)
	ClaimDueDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*billkey.WebhookDelivery, error)
	RecordWebhookAttempt(ctx context.Context, d *billkey.WebhookDelivery, owner string, a billkey.WebhookAttempt, o billkey.AttemptOutcome) error
	DeliveryByID(ctx context.Context, merchantID, id int64) (*billkey.WebhookDelivery, error)
	ListDeliveries(ctx context.Context, f billkey.DeliveryFilter) ([]*billkey.WebhookDelivery, int, error)
	ResendDelivery(ctx context.Context, merchantID, id int64, giveUp time.Time) (*billkey.WebhookDelivery, error)
	SetWebhookURL(ctx context.Context, merchantID int64, u string) error
	AddWebhookSecret(ctx context.Context, merchantID int64, secret string, previousUntil time.Time) error
	WebhookSecrets(ctx context.Context, merchantID int64, now time.Time) ([]string, []billkey.WebhookSecretInfo, error)
	WebhookSecretBlobs(ctx context.Context) ([]billkey.KeyBlob, error)
	ReplaceWebhookSecretBlob(ctx context.Context, b billkey.KeyBlob, newBlob []byte) error
}

// MerchantStore is the merchants aggregate: merchants, their API secrets,
// channels and access tokens.
type MerchantStore interface {
	CreateMerchant(ctx context.Context, m *billkey.Merchant, secretMAC []byte, channels []*billkey.Channel) error
	MerchantByID(ctx context.Context, id int64) (*billkey.Merchant, error)
	MerchantByImpCode(ctx context.Context, code string) (*billkey.Merchant, error)
	ListMerchants(ctx context.Context) ([]*billkey.Merchant, error)
	MerchantSecrets(ctx context.Context, apiKey string) (m *billkey.Merchant, mac, prevMAC []byte, prevUntil time.Time, err error)
	RotateSecret(ctx context.Context, merchantID int64, newMAC []byte, prevUntil time.Time) error
	SetMerchantSecretMAC(ctx context.Context, merchantID int64, mac []byte) error
	SetMobileWindow(ctx context.Context, merchantID, channelID int64, mode string) error
	SetNoticeHosts(ctx context.Context, merchantID int64, hosts []string) error
	CreateChannel(ctx context.Context, ch *billkey.Channel) error
	Channels(ctx context.Context, merchantID int64) ([]*billkey.Channel, error)
	ChannelByID(ctx context.Context, merchantID, channelID int64) (*billkey.Channel, error)
	ChannelBlobs(ctx context.Context) ([]billkey.KeyBlob, error)
	CurrentToken(ctx context.Context, merchantID int64, nonce, tokenMAC []byte, now time.Time) (*billkey.TokenRecord, error)
	TokenByMAC(ctx context.Context, tokenMAC []byte) (merchantID int64, expiresAt time.Time, err error)
	RevokeTokens(ctx context.Context, merchantID int64, at time.Time) error
	TokensRevokedMark(ctx context.Context) (int64, error)
}

// OrphanStore records PG approvals billkey could not attach to a payment
// (orphans), until they are refunded.
type OrphanStore interface {
	RecordOrphan(ctx context.Context, o *billkey.Orphan, note string, ev *billkey.Event) (bool, error)
	DueOrphans(ctx context.Context, now time.Time, limit int) ([]*billkey.Orphan, error)
	SettleOrphan(ctx context.Context, o *billkey.Orphan) error
}

// OpsStore is what health checks and metrics read of the database itself.
type OpsStore interface {
	DialectName() string
	Ping(ctx context.Context) error
	Durability(ctx context.Context) string
	ProbeWrite(ctx context.Context, node string) error
	MigrationsCurrent(ctx context.Context) error
	OpsSnapshot(ctx context.Context, now time.Time) (billkey.OpsSnapshot, error)
}

// ---- Windows: the payment window's attempts. Exactly the methods window.go
// uses; keep this block in step with that file.

// WindowStore is the payment window attempts aggregate.
type WindowStore interface {
	CreateWindowAttempt(ctx context.Context, a *billkey.WindowAttempt) error
	WindowAttemptByID(ctx context.Context, id int64) (*billkey.WindowAttempt, error)
	WindowAttemptByToken(ctx context.Context, tokenHash []byte) (*billkey.WindowAttempt, error)
	OpenWindowAttempts(ctx context.Context, merchantID int64, merchantUID string) ([]*billkey.WindowAttempt, error)
	DueWindowAttempts(ctx context.Context, now, staleProcessing time.Time, limit int) ([]*billkey.WindowAttempt, error)
	ClaimWindowAttempt(ctx context.Context, id int64, now time.Time) (bool, error)
	FinishWindowAttempt(ctx context.Context, id int64, from []string, state string, result []byte, now time.Time) (bool, error)
}
