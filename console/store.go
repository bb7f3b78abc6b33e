package console

import (
	"context"
	"time"

	"github.com/billkey/billkey"
)

// Store is what the console reads and writes directly: its read models
// (payment search and export, dashboard, customers, schedules, webhook
// deliveries, audit) and operator sessions. Every change to a payment,
// customer, schedule or merchant goes through the gateway instead.
// *sqlstore.Store implements it.
type Store interface {
	AddAudit(ctx context.Context, e *billkey.AuditEntry) error
	ChannelByID(ctx context.Context, merchantID, channelID int64) (*billkey.Channel, error)
	Channels(ctx context.Context, merchantID int64) ([]*billkey.Channel, error)
	ClearLoginFailures(ctx context.Context, login string, before time.Time) error
	CreateOperatorSession(ctx context.Context, tokenHash []byte, sess *billkey.OperatorSession) error
	Dashboard(ctx context.Context, q billkey.DashboardQuery) (*billkey.Dashboard, error)
	DeleteOperatorSession(ctx context.Context, id int64) error
	DeliveriesOfPayment(ctx context.Context, merchantID int64, impUID string) ([]*billkey.WebhookDelivery, error)
	EachPayment(ctx context.Context, f billkey.PaymentSearch, fn func(*billkey.Payment) error) error
	ListAudit(ctx context.Context, f billkey.AuditFilter) ([]*billkey.AuditEntry, int, error)
	ListCustomers(ctx context.Context, merchantID int64, customerUID string, offset, limit int) ([]*billkey.CustomerSummary, int, error)
	ListMerchants(ctx context.Context) ([]*billkey.Merchant, error)
	ListSchedules(ctx context.Context, f billkey.ScheduleFilter) ([]*billkey.Schedule, int, error)
	LoginFailures(ctx context.Context, login, clientAddr string, since time.Time) (byLogin, byAddr int, err error)
	OperatorByID(ctx context.Context, id int64) (*billkey.Operator, error)
	OperatorByLogin(ctx context.Context, login string) (*billkey.Operator, error)
	OperatorSessionByHash(ctx context.Context, tokenHash []byte) (*billkey.OperatorSession, error)
	PaymentByImpUID(ctx context.Context, merchantID int64, impUID string) (*billkey.Payment, error)
	PaymentCancelRecords(ctx context.Context, paymentID int64) ([]billkey.CancelRecord, error)
	RecordLoginFailure(ctx context.Context, login, clientAddr string, at time.Time) error
	SearchPayments(ctx context.Context, f billkey.PaymentSearch) ([]*billkey.Payment, int, error)
	TouchOperatorSession(ctx context.Context, id int64, now time.Time) error
	// Subscriptions: the list and detail pages.
	SearchSubscriptions(ctx context.Context, merchantID int64, customerUID string, status billkey.SubscriptionStatus, offset, limit int) ([]*billkey.Subscription, int, error)
	SubscriptionByID(ctx context.Context, merchantID, id int64) (*billkey.Subscription, error)
	TestClockByID(ctx context.Context, merchantID, id int64) (*billkey.TestClock, error)
	SubscriptionSchedules(ctx context.Context, merchantID, id int64, limit int) ([]*billkey.Schedule, error)
	SubscriptionPayments(ctx context.Context, merchantID, id int64, limit int) ([]*billkey.Payment, error)
	SubscriptionEvents(ctx context.Context, merchantID, id int64, limit int) ([]*billkey.SubscriptionEventRow, error)
	CardUpdateLinks(ctx context.Context, merchantID, subscriptionID int64, limit int) ([]*billkey.CardUpdateLink, error)
}
