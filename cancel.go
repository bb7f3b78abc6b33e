package billkey

import "errors"

// ErrCancelBusy is returned by ReserveCancel while another refund of the
// payment is in flight; refunds of one payment go to the PG one at a time.
var ErrCancelBusy = errors.New("billkey: another cancel of this payment is in flight")

// ErrCancelReleased is returned by CompleteCancel for a cancel whose
// reservation was already released (the PG's refusal of it was recorded):
// a refund the PG made for it is an orphan.
var ErrCancelReleased = errors.New("billkey: the cancel's reservation was already released")

// CancelRequest is a merchant's refund request, already validated.
type CancelRequest struct {
	Amount    int64 // 0 means everything that is left
	TaxFree   int64
	VatAmount *int64
	Checksum  *int64 // the refundable balance the caller believes is left
	Reason    string
}
