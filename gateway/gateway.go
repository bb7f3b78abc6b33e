// Package gateway is billkey's application layer: the use cases behind the
// i'mport API (tokens, merchants, billing keys, charges, cancels, lookups)
// written against the domain, the vault, a PG connector and the store
// interfaces it declares (store.go, one per aggregate; package sqlstore
// implements them, the unit tests fake them). The HTTP layer (api) only
// binds requests and renders replies.
package gateway

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/billkey/billkey"
)

// Keys is what the gateway needs from the vault: sealing of secrets bound to
// their owner, and keyed MACs of high-entropy secrets.
type Keys interface {
	billkey.Sealer
	MAC(purpose string, data []byte) []byte
}

// MAC purposes.
const (
	macAPISecret   = "imp-secret"
	macTokenLookup = "access-token-lookup"
	macTokenDerive = "access-token-derive"
)

// Service implements billkey's use cases.
type Service struct {
	Store Store
	Keys  Keys
	// PGs are the PG providers; every PG call goes to the one its
	// channel names.
	PGs    *billkey.PGRegistry
	Logger *slog.Logger
	// Now returns the current time; tests may replace it.
	Now func() time.Time
	// ReconcileDelays is the published schedule on which an unknown PG
	// outcome is inquired: the i-th inquiry happens ReconcileDelays[i] after
	// the unknown outcome (the last delay repeats).
	ReconcileDelays []time.Duration
	// AllowLive lets live channels be used; billkey serve sets it only when
	// the master key was configured explicitly.
	AllowLive bool

	cache caches
	// maintLast is when this node last ran the housekeeping job.
	maintLast atomicTime
	// StaleReadyAfter is how long an API payment may stay ready without a
	// recorded outcome before it is treated as left by a node that died
	// mid-charge (default 3 minutes). It must exceed InFlightWindow
	// (CheckTiming refuses it otherwise).
	StaleReadyAfter time.Duration
	// PGTimeout is the timeout of one PG call (the connector's). With
	// InFlightMargin it bounds how long after a payment started a PG call
	// for it may still be in flight; the reconciler never declares a
	// payment failed before that (default 30s).
	PGTimeout time.Duration
	// InFlightMargin is added to the longest a payment's PG calls can take
	// (default DefaultInFlightMargin): it covers the work between the
	// payment's start and its PG call, and clock skew between nodes.
	InFlightMargin time.Duration
	// NoApprovalGrace is how long after a payment started an inquiry that
	// reports no approval state (billkey.InquiryNoApproval) counts as not
	// found (default DefaultNoApprovalGrace).
	NoApprovalGrace time.Duration
	// OnOrphan, when set, is told of every orphan approval (kind "charge" or
	// "refund"); billkey serve counts them in a metric.
	OnOrphan func(kind string)
	// Schedules configures the execution of scheduled payments.
	Schedules ScheduleConfig
	// Webhooks configures webhook delivery.
	Webhooks WebhookConfig
	// Wake, when set, asks the background job runner to look for due work
	// of the named queue (QueueSchedules, QueueWebhooks) now.
	Wake func(queue string)
	// WindowTTL is how long a payment window attempt stays open (default
	// DefaultWindowTTL).
	WindowTTL time.Duration
	// PublicURL is how browsers reach billkey (no trailing slash): the
	// base of card-update links.
	PublicURL string
	// OnWindowResult, when set, is told how each payment window attempt
	// ended (see windowFailure), for metrics.
	OnWindowResult func(result string)
}

// staleReadyAfter returns StaleReadyAfter, or its 3-minute default.
func (s *Service) staleReadyAfter() time.Duration {
	if s.StaleReadyAfter > 0 {
		return s.StaleReadyAfter
	}
	return staleReady
}

// Defaults of the reconciliation timing rules.
const (
	DefaultPGTimeout       = 30 * time.Second
	DefaultInFlightMargin  = 10 * time.Second
	DefaultNoApprovalGrace = 30 * time.Minute
)

func (s *Service) pgTimeout() time.Duration {
	if s.PGTimeout > 0 {
		return s.PGTimeout
	}
	return DefaultPGTimeout
}

// InFlightWindow is how long after a payment started a PG call for it may
// still be in flight: a onetime charge makes two calls in a row (the key
// issuance, then the approval), each bounded by the PG timeout, plus the
// margin.
func (s *Service) InFlightWindow() time.Duration {
	m := s.InFlightMargin
	if m <= 0 {
		m = DefaultInFlightMargin
	}
	return 2*s.pgTimeout() + m
}

func (s *Service) noApprovalGrace() time.Duration {
	if s.NoApprovalGrace > 0 {
		return s.NoApprovalGrace
	}
	return DefaultNoApprovalGrace
}

// CheckTiming refuses settings under which the reconciler could declare a
// payment failed while a PG call for it may still be in flight.
func (s *Service) CheckTiming() error {
	w := s.InFlightWindow()
	if st := s.staleReadyAfter(); st <= w {
		return fmt.Errorf("stale-ready-after (%s) must be longer than the longest a payment's PG calls can take "+
			"(2 x pg-timeout %s + margin %s = %s): a payment still being charged would be reconciled", st, s.pgTimeout(), w-2*s.pgTimeout(), w)
	}
	if g := s.noApprovalGrace(); g <= w {
		return fmt.Errorf("the no-approval grace (%s) must be longer than the in-flight window (%s)", g, w)
	}
	return nil
}

// DefaultReconcileDelays is the published reconciliation schedule.
var DefaultReconcileDelays = []time.Duration{
	2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute,
}

// New returns a Service with default settings.
func New(store Store, keys Keys, pgs *billkey.PGRegistry, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: store, Keys: keys, PGs: pgs, Logger: logger, Now: time.Now, ReconcileDelays: DefaultReconcileDelays}
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	ten := big.NewInt(10)
	for i := range b {
		d, err := rand.Int(rand.Reader, ten)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// randomAlnum returns n random characters from [0-9A-Za-z].
func randomAlnum(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		d, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[d.Int64()]
	}
	return string(b)
}
