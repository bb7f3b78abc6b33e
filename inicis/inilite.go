package inicis

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/billkey/billkey"
)

// INILite result conventions.
const (
	// LiteOK is the legacy INILite success resultcode.
	LiteOK = "00"
	// LiteUserCancelCode is posted to returnurl when the buyer cancels the
	// mobile window. INICIS's value is not public; it is a project choice
	// shared with the simulator.
	LiteUserCancelCode = "99"
)

// LiteRequest describes one legacy INILite mobile card-billing window
// (inibill_card.jsp, authtype D).
type LiteRequest struct {
	OrderID          string // orderid: unique per MID
	Price            int64  // shown only
	GoodName         string
	Buyer            billkey.Buyer
	ReturnURL        string // returnurl: where the result is form-posted
	Period           string // "M2", "Y2" or "YYYYMMDDYYYYMMDD" (optional)
	Notice           string // p_noti, echoed back; no Hangul (base64 it)
	MerchantReserved string // e.g. "below1000=Y" (optional)
}

// LiteForm is a form to POST from the buyer's browser to Action.
type LiteForm struct {
	Action string
	Fields url.Values
}

// LiteForm builds the legacy INILite request: mid, authtype D, orderid,
// price, goodname, buyer fields, returnurl, timestamp (YYYYMMDDhhmmss KST),
// period, p_noti, merchantreserved and hashdata = SHA256(mid + orderid +
// timestamp + INILiteKey).
func (c *Connector) LiteForm(ch billkey.PGChannel, req LiteRequest) (*LiteForm, error) {
	e, cr, err := c.channel(ch)
	if err != nil {
		return nil, err
	}
	if cr.LiteKey == "" {
		return nil, fmt.Errorf("inicis: channel %s has no INILite key", ch.MID)
	}
	if req.OrderID == "" || req.ReturnURL == "" || e.LiteCard == "" {
		return nil, errors.New("inicis: INILite window needs an order id, a returnurl and an endpoint")
	}
	ts := apiTimestamp(c.cfg.Now())
	f := url.Values{}
	f.Set("mid", ch.MID)
	f.Set("authtype", "D")
	f.Set("orderid", req.OrderID)
	f.Set("price", strconv.FormatInt(req.Price, 10))
	f.Set("goodname", req.GoodName)
	f.Set("buyername", req.Buyer.Name)
	f.Set("buyertel", req.Buyer.Tel)
	f.Set("buyeremail", req.Buyer.Email)
	f.Set("returnurl", req.ReturnURL)
	f.Set("timestamp", ts)
	if req.Period != "" {
		f.Set("period", req.Period)
	}
	if req.Notice != "" {
		f.Set("p_noti", req.Notice)
	}
	if req.MerchantReserved != "" {
		f.Set("merchantreserved", req.MerchantReserved)
	}
	f.Set("hashdata", liteHash(ch.MID, req.OrderID, ts, cr.LiteKey))
	return &LiteForm{Action: e.LiteCard, Fields: f}, nil
}

// LiteReturn is the legacy INILite result posted to returnurl. The protocol
// carries no signature: the post is only as trustworthy as the browser that
// sent it (see the package doc).
type LiteReturn struct {
	ResultCode       string // LiteOK on success
	ResultMsg        string
	MID              string
	OrderID          string
	TID              string
	BillKey          string // 40 hex characters
	AuthKey          string
	CardCode         string // INICIS 2-digit code (cardcd)
	CardNumber       string // masked (cardno)
	CardKind         string
	CheckFlag        string
	AuthDate         string // pgauthdate YYYYMMDD
	AuthTime         string // pgauthtime hhmmss
	Notice           string // p_noti
	Data1            string
	MerchantReserved string
}

// ParseLiteReturn reads the legacy INILite result post. It fails (EINVALID)
// without resultcode, or on success without mid, orderid or billkey.
func ParseLiteReturn(v url.Values) (*LiteReturn, error) {
	r := &LiteReturn{
		ResultCode:       v.Get("resultcode"),
		ResultMsg:        v.Get("resultmsg"),
		MID:              v.Get("mid"),
		OrderID:          v.Get("orderid"),
		TID:              v.Get("tid"),
		BillKey:          v.Get("billkey"),
		AuthKey:          v.Get("authkey"),
		CardCode:         v.Get("cardcd"),
		CardNumber:       v.Get("cardno"),
		CardKind:         v.Get("cardkind"),
		CheckFlag:        v.Get("checkflag"),
		AuthDate:         v.Get("pgauthdate"),
		AuthTime:         v.Get("pgauthtime"),
		Notice:           v.Get("p_noti"),
		Data1:            v.Get("data1"),
		MerchantReserved: v.Get("merchantreserved"),
	}
	if r.ResultCode == "" {
		return nil, billkey.Errorf(billkey.EINVALID, "INICIS 결과에 resultcode가 없습니다.")
	}
	if r.OK() && (r.MID == "" || r.OrderID == "" || r.BillKey == "") {
		return nil, billkey.Errorf(billkey.EINVALID, "INICIS 결과에 mid, orderid 또는 billkey가 없습니다.")
	}
	return r, nil
}

// OK reports success.
func (r *LiteReturn) OK() bool { return r.ResultCode == LiteOK }

// Cancelled reports whether the buyer cancelled the window.
func (r *LiteReturn) Cancelled() bool { return r.ResultCode == LiteUserCancelCode }

// Err returns nil on success, else the EPG error "[resultcode] resultmsg".
func (r *LiteReturn) Err() error {
	if r.OK() {
		return nil
	}
	return pgRefusal(&ResultError{Op: "window", Code: r.ResultCode, Message: r.ResultMsg, TID: r.TID})
}

// CompleteLite turns a successful INILite result into a billing key after
// checking that it is for this channel's MID and for orderID, and that the
// billkey has INICIS's shape (40 hex characters). These checks cannot tell
// a forged post from INICIS's (nothing in it is signed), so a caller must
// not store its key on the strength of a browser post alone; billkey's
// payment window does not use it.
func (c *Connector) CompleteLite(ch billkey.PGChannel, r *LiteReturn, orderID string) (*billkey.BillingKey, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch {
	case r.MID != ch.MID:
		return nil, tampered("lite", "mid 불일치")
	case r.OrderID != orderID:
		return nil, tampered("lite", "주문번호 불일치")
	case !isHex40(r.BillKey):
		return nil, tampered("lite", "billkey 형식 오류")
	}
	kftc, name := cardInfo(r.CardCode, "")
	issued := parseKST(r.AuthDate, r.AuthTime)
	if issued.IsZero() {
		issued = c.cfg.Now()
	}
	return &billkey.BillingKey{
		Key:        r.BillKey,
		CardCode:   kftc,
		CardName:   name,
		CardNumber: maskIfPlain(r.CardNumber),
		PGTID:      r.TID,
		IssuedAt:   issued,
	}, nil
}

func isHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
