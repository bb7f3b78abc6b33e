package inicissim

import (
	"slices"
	"sync"
	"time"
)

// Ledger is a snapshot of everything the simulator has done. It is test-only
// introspection: keys carry their billKey (so tests can check that billkey
// never leaks one) but never the card number beyond its masked form.
type Ledger struct {
	Keys       []Key       `json:"keys"`
	Approvals  []Approval  `json:"approvals"`
	Declines   []Decline   `json:"declines"`
	Refunds    []Refund    `json:"refunds"`
	NetCancels []NetCancel `json:"net_cancels"`
}

// Key is an issued billing key.
type Key struct {
	MID        string    `json:"mid"`
	BillKey    string    `json:"bill_key"`
	TID        string    `json:"tid"`
	OrderID    string    `json:"order_id"`
	Source     string    `json:"source"` // "api" (key-in), "stdpay" (PC window), "inilite" (mobile window)
	CardCode   string    `json:"card_code"`
	CardKFTC   string    `json:"card_kftc"`
	CardName   string    `json:"card_name"`
	CardNumber string    `json:"card_number"` // masked
	Behavior   Behavior  `json:"behavior"`
	IssuedAt   time.Time `json:"issued_at"`
	Revoked    bool      `json:"revoked"` // net-cancelled
}

// Approval states.
const (
	StateApproved           = "approved"
	StatePartiallyCancelled = "partially_cancelled"
	StateCancelled          = "cancelled"
)

// Approval is an approved charge.
type Approval struct {
	MID          string    `json:"mid"`
	TID          string    `json:"tid"`
	OrderID      string    `json:"order_id"` // moid
	BillKey      string    `json:"bill_key"`
	AuthCode     string    `json:"auth_code"`
	Price        int64     `json:"price"`
	Cancelled    int64     `json:"cancelled"`
	Remaining    int64     `json:"remaining"`
	State        string    `json:"state"`
	CardCode     string    `json:"card_code"`
	CardName     string    `json:"card_name"`
	CardNumber   string    `json:"card_number"`
	Quota        string    `json:"quota"`
	GoodName     string    `json:"good_name"`
	BuyerName    string    `json:"buyer_name"`
	BuyerTel     string    `json:"buyer_tel"`
	BuyerEmail   string    `json:"buyer_email"`
	ApprovedAt   time.Time `json:"approved_at"`
	ReplyDropped bool      `json:"reply_dropped"`
}

// Decline is a refused charge (INICIS issues a tid for those too).
type Decline struct {
	MID     string    `json:"mid"`
	TID     string    `json:"tid"`
	OrderID string    `json:"order_id"`
	BillKey string    `json:"bill_key"`
	Price   int64     `json:"price"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Refund is a full or partial cancel.
type Refund struct {
	MID       string    `json:"mid"`
	TID       string    `json:"tid"`        // the approval's tid
	CancelTID string    `json:"cancel_tid"` // the partial cancel's own tid; "" for full
	Type      string    `json:"type"`       // "Refund" or "PartialRefund"
	Amount    int64     `json:"amount"`
	Remaining int64     `json:"remaining"`
	At        time.Time `json:"at"`
}

// NetCancel is a StdPay net cancel (망취소).
type NetCancel struct {
	MID     string    `json:"mid"`
	OrderID string    `json:"order_id"`
	TID     string    `json:"tid"`      // the issuance tid, "" if not approved yet
	BillKey string    `json:"bill_key"` // the revoked key, "" if not approved yet
	At      time.Time `json:"at"`
}

// keyRecord is a Key plus what the simulator keeps private.
type keyRecord struct {
	Key
	profile cardProfile
}

// state is the simulator's mutable world, guarded by mu.
type state struct {
	mu         sync.Mutex
	keys       map[string]*keyRecord // by billKey
	keyOrder   []string
	approvals  []*Approval
	byTID      map[string]*Approval
	byMOID     map[string]*Approval // mid + "\x00" + moid
	declines   []Decline
	refunds    []Refund
	netCancels []NetCancel
	windows    map[string]*window    // by session id
	tokens     map[string]*authGrant // by authToken
	file       *stateFile            // nil: in memory only
}

func newState() *state {
	st := &state{}
	st.clear()
	return st
}

func moidKey(mid, moid string) string { return mid + "\x00" + moid }

// addKey stores a new key; the caller holds mu.
func (st *state) addKey(k *keyRecord) {
	for st.keys[k.BillKey] != nil { // never collide, however unlikely
		k.BillKey = newBillKey()
	}
	st.keys[k.BillKey] = k
	st.keyOrder = append(st.keyOrder, k.BillKey)
	st.persistKey(k)
}

// snapshot deep-copies the ledger; the caller holds mu.
func (st *state) snapshot() Ledger {
	l := Ledger{
		Keys:       make([]Key, 0, len(st.keyOrder)),
		Approvals:  make([]Approval, 0, len(st.approvals)),
		Declines:   slices.Clone(st.declines),
		Refunds:    slices.Clone(st.refunds),
		NetCancels: slices.Clone(st.netCancels),
	}
	for _, bk := range st.keyOrder {
		l.Keys = append(l.Keys, st.keys[bk].Key)
	}
	for _, a := range st.approvals {
		l.Approvals = append(l.Approvals, *a)
	}
	if l.Declines == nil {
		l.Declines = []Decline{}
	}
	if l.Refunds == nil {
		l.Refunds = []Refund{}
	}
	if l.NetCancels == nil {
		l.NetCancels = []NetCancel{}
	}
	return l
}

// Ledger returns a snapshot of the ledger.
func (s *Simulator) Ledger() Ledger {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.snapshot()
}

// Reset forgets every key, approval, refund, net cancel and open window (in
// the state file too), and clears the global faults. Accounts stay.
func (s *Simulator) Reset() {
	s.st.mu.Lock()
	s.st.clear()
	s.st.file.clear()
	s.st.mu.Unlock()
	s.ClearFaults()
}

// clear empties the state; the caller holds mu.
func (st *state) clear() {
	st.keys, st.keyOrder, st.approvals = map[string]*keyRecord{}, nil, nil
	st.byTID, st.byMOID = map[string]*Approval{}, map[string]*Approval{}
	st.declines, st.refunds, st.netCancels = nil, nil, nil
	st.windows, st.tokens = map[string]*window{}, map[string]*authGrant{}
}
