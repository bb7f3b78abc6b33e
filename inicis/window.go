package inicis

import (
	"context"
	"net/url"

	"github.com/billkey/billkey"
)

// The Connector is the PG side of billkey's payment window
// (billkey.WindowPG): INIStdPay with acceptmethod BILLAUTH(Card), on PC and
// phones alike. The browser carries INICIS's STEP 2 post (an authToken);
// the billing key comes from the STEP 3 approval billkey makes server to
// server at the idc's fixed approval URL, whose reply is checked against
// the channel's signKey (ApproveStdPay).
//
// The legacy INILite mobile window is deliberately not used: it posts the
// billing key itself through the buyer's browser, and nothing in that post
// is signed with a secret the browser never holds, so a made-up result
// (resultcode 00, the MID, the order id, any 40-hex key) could not be told
// from a real one.
var _ billkey.WindowPG = (*Connector)(nil)

// msgUserCancel is the buyer's cancel, as i'mport words it.
const msgUserCancel = "사용자가 결제를 취소하였습니다."

// CheckWindow refuses a channel without an INIStdPay signKey.
func (c *Connector) CheckWindow(ch billkey.PGChannel) error {
	cr, err := credentialsOf(ch)
	if err != nil {
		return err
	}
	if cr.SignKey == "" {
		return billkey.Errorf(billkey.EREJECTED, "PG 설정(%s)에 INIStdPay signKey가 없어 결제창을 열 수 없습니다.", ch.MID)
	}
	return nil
}

// WindowForm builds the INIStdPay billing window's form (StdPayForm), with
// the page sources INIStdPay.js needs (StdPayPageSources).
func (c *Connector) WindowForm(ch billkey.PGChannel, req billkey.WindowFormRequest) (*billkey.WindowForm, error) {
	f, err := c.StdPayForm(ch, StdPayRequest{
		OrderID: req.OrderID, Price: req.Amount, GoodName: req.GoodName, Buyer: req.Buyer, ReturnURL: req.ReturnURL,
		CloseURL: req.CloseURL, Language: req.Language,
	})
	if err != nil {
		return nil, err
	}
	src := StdPayPageSources(f.ScriptURL)
	return &billkey.WindowForm{ScriptURL: f.ScriptURL, Action: f.Action, Fields: f.Fields, Sources: src}, nil
}

// ApproveWindow reads the STEP 2 post and approves it (ApproveStdPay). The
// buyer's cancel is an EPG error carrying StdPayUserCancelCode; nothing is
// sent to INICIS for it.
func (c *Connector) ApproveWindow(ctx context.Context, ch billkey.PGChannel, orderID string, post url.Values) (*billkey.BillingKey, error) {
	ret, err := ParseStdPayReturn(post)
	if err != nil {
		return nil, err
	}
	if ret.Cancelled() {
		return nil, billkey.WrapError(billkey.EPG, msgUserCancel, &ResultError{Op: "window", Code: ret.ResultCode, Message: msgUserCancel})
	}
	return c.ApproveStdPay(ctx, ch, ret, orderID)
}

// CancelWindow net-cancels the approval of a STEP 2 post (NetCancel).
func (c *Connector) CancelWindow(ctx context.Context, ch billkey.PGChannel, post url.Values) error {
	ret, err := ParseStdPayReturn(post)
	if err != nil {
		return err
	}
	return c.NetCancel(ctx, ch, ret)
}

// WindowClosedCode is StdPayUserCancelCode.
func (c *Connector) WindowClosedCode() string { return StdPayUserCancelCode }

// PGResultCode is INICIS's effective result code (Reason's), so billkey
// reports a card refusal's own code, the same on PC and mobile.
func (e *ResultError) PGResultCode() string {
	code, _ := e.Reason()
	return code
}
