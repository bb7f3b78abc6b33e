package billkey

import "time"

// ScheduleStatus is i'mport's schedule_status.
type ScheduleStatus string

// Schedule statuses.
const (
	ScheduleScheduled ScheduleStatus = "scheduled" // pending (possibly being executed right now)
	ScheduleExecuted  ScheduleStatus = "executed"
	ScheduleRevoked   ScheduleStatus = "revoked"
)

// Valid reports whether s is one of the three statuses.
func (s ScheduleStatus) Valid() bool {
	return s == ScheduleScheduled || s == ScheduleExecuted || s == ScheduleRevoked
}

// Schedule is one scheduled payment (POST /subscribe/payments/schedule): a
// charge of CustomerUID's billing key under MerchantUID at ScheduleAt.
type Schedule struct {
	ID          int64
	MerchantID  int64
	CustomerUID string
	MerchantUID string
	ScheduleAt  time.Time

	Amount     int64
	TaxFree    int64
	VatAmount  *int64
	Currency   string
	CardQuota  int
	Name       string
	Buyer      Buyer
	CustomData *string
	NoticeURL  string

	Status ScheduleStatus
	// ImpUID is the payment the execution made (or adopted); "" before.
	ImpUID string
	// PaymentStatus is the result recorded at execution (paid or failed);
	// "" before. Lookups return the payment's current status instead
	// (cancelled once refunded).
	PaymentStatus PaymentStatus
	FailReason    string
	ExecutedAt    time.Time
	RevokedAt     time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// Execution bookkeeping.
	RunAfter       time.Time // when it may next be claimed
	Attempts       int       // claims so far
	LeaseOwner     string
	LeaseUntil     time.Time
	PriorPaymentID int64 // payments of the merchant_uid up to this id predate the current run
	LastError      string

	// TestClockID, when not 0, is the test clock that runs this schedule
	// (a test-mode subscription's charge): the wall-clock scan skips it.
	TestClockID int64
}

// Messages of schedule creation.
const (
	// DuplicateScheduleMessage is the refusal of a merchant_uid that is
	// already scheduled (i'mport's exact text is not recorded).
	DuplicateScheduleMessage = "이미 예약결제가 등록된 merchant_uid입니다."
)

// ScheduleFilter selects schedules of one merchant for paged lookups.
type ScheduleFilter struct {
	MerchantID  int64
	CustomerUID string         // "" means any
	Status      ScheduleStatus // "" means all
	From, To    time.Time      // From <= schedule_at < To; zero means unbounded
	OldestFirst bool           // default newest schedule_at first
	Offset      int
	Limit       int
}

// ScheduleResult is the outcome an execution records.
type ScheduleResult struct {
	ImpUID        string // "" when no payment could be made
	PaymentStatus PaymentStatus
	FailReason    string
	ExecutedAt    time.Time
}
