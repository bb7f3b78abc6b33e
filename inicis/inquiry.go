package inicis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// Inquiry result conventions (see the package doc: the v2 inquiry reply
// schema is not public).
const (
	// InquiryNotFoundCode is the resultCode the simulator uses, and this
	// client recognises, for "no transaction with that oid/tid".
	InquiryNotFoundCode = "R404"
	// InquiryOK is the inquiry's success resultCode, as integrators of
	// /v2/pg/inquiry read it (not the "00" of the other INIAPI calls).
	InquiryOK = "SUCCESS"
)

// v2Envelope is the INIAPI v2 JSON request, fields in the documented order.
type v2Envelope struct {
	MID       string          `json:"mid"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	ClientIP  string          `json:"clientIp"`
	Data      json.RawMessage `json:"data"`
	HashData  string          `json:"hashData"`
}

// marshalV2 encodes v without HTML escaping and without the trailing newline,
// so the bytes hashed are the bytes sent.
func marshalV2(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("inicis: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Inquire looks an approval up by order id (moid) through INIAPI v2
// POST /v2/pg/inquiry with data {"oid": orderID}; hashData =
// SHA512(key+mid+type+timestamp+dataJSON).
//
// Reply mapping: resultCode "SUCCESS" (INICIS's inquiry success code; "00"
// is accepted too) with transactionStatus "APPROVAL" or "PART_CANCEL" is
// approved (Approval.Amount is the original price), "CANCEL" cancelled,
// "FAIL" declined (Reason DescribeRefusal of failCode and failMsg); a resultCode of
// Config.InquiryNotFoundCodes is not found. The approval fields are read by
// inquiryApproval. A reply about another order or MID is EUNCERTAIN, as is
// an unknown transactionStatus. Any other refusal is InquiryNoApproval (the
// PG reports no approval state), which the reconciler counts as not found
// only long after any call could have ended, so it never fails an order
// INICIS might still approve.
func (c *Connector) Inquire(ctx context.Context, ch billkey.PGChannel, orderID string) (*billkey.Inquiry, error) {
	e, err := c.endpoints(ch)
	if err != nil {
		return nil, err
	}
	data, err := marshalV2(struct {
		OID string `json:"oid"`
	}{orderID})
	if err != nil {
		return nil, err
	}
	ts := apiTimestamp(c.cfg.Now())
	env := v2Envelope{MID: ch.MID, Type: "inquiry", Timestamp: ts, ClientIP: c.cfg.ClientIP, Data: data}
	cr, err := credentialsOf(ch)
	if err != nil {
		return nil, err
	}
	env.HashData = v2Hash(cr.APIKey, env.MID, env.Type, ts, data)
	body, err := marshalV2(env)
	if err != nil {
		return nil, err
	}
	reply, err := c.post(ctx, "inquiry", e.INIAPI+"/v2/pg/inquiry", "application/json;charset=utf-8", body)
	if err != nil {
		return nil, err
	}
	code, _ := resultOf(reply)
	c.log.LogAttrs(ctx, slog.LevelInfo, "inicis inquiry", slog.String("mid", ch.MID), slog.String("oid", orderID),
		slog.String("resultCode", code), slog.String("status", reply.Get("transactionStatus")))
	switch {
	case code == InquiryOK || code == resultOK || code == StdPayOK:
	case slices.Contains(c.cfg.InquiryNotFoundCodes, code):
		return &billkey.Inquiry{State: billkey.InquiryNotFound}, nil
	default:
		// A well-formed refusal with another code: INICIS reports no
		// approval state for the order (its own not-found code is not
		// published). The reconciler treats this as not found only after a
		// long grace; see billkey.InquiryNoApproval.
		_, msg := resultOf(reply)
		return &billkey.Inquiry{State: billkey.InquiryNoApproval, Reason: fmt.Sprintf("[%s] %s", code, msg)}, nil
	}
	if oid, mid := reply.Get("oid", "moid", "MOID"), reply.Get("mid"); (oid != "" && oid != orderID) || (mid != "" && mid != ch.MID) {
		return nil, noReply("inquiry", fmt.Errorf("%w: inquiry for %s answered for oid %s mid %s", ErrTampered, strconv.Quote(orderID), strconv.Quote(oid), strconv.Quote(mid)))
	}
	a := inquiryApproval(reply, c.cfg.Now())
	a.ReceiptURL = c.receiptURL(e, a.TID)
	switch st := reply.Get("transactionStatus", "status"); st {
	case "APPROVAL", "PART_CANCEL":
		return &billkey.Inquiry{State: billkey.InquiryApproved, Approval: a}, nil
	case "CANCEL":
		return &billkey.Inquiry{State: billkey.InquiryCancelled, Approval: a}, nil
	case "FAIL", "DECLINE":
		_, msg := resultOf(reply)
		reason := reply.Get("failMsg", "payResultMsg")
		if reason == "" {
			reason = msg
		}
		return &billkey.Inquiry{State: billkey.InquiryDeclined, Reason: DescribeRefusal("billing", reply.Get("failCode", "payResultCode"), reason)}, nil
	default:
		return nil, noReply("inquiry", fmt.Errorf("%w: unknown transactionStatus %s", ErrTampered, strconv.Quote(st)))
	}
}

// inquiryApproval reads the approval fields of a /v2/pg/inquiry reply. The
// shape, as INICIS's inquiry sample and integrators read it (docs/inicis.md):
// flat tid, oid, mid, price, paymethod, approvedDate (YYYYMMDD) and
// approvedTime (hhmmss), transactionStatus, availablePartCancel,
// availablePartCancelPrice, partCancelTransInfo, and a nested cardInfo object
// holding approvedNumber (the card approval number) and currencyCode. The card
// company fields inside cardInfo are not shown by any source; cardCode,
// cardName, cardNumber and cardQuota are read there when present. The flat
// billing-reply names (payDate, payAuthCode, cardCode, ...) are the fallback.
func inquiryApproval(r Reply, now time.Time) *billkey.Approval {
	card := Reply{}
	if raw := r.Get("cardInfo"); strings.HasPrefix(raw, "{") {
		if c, err := ParseReply([]byte(raw)); err == nil {
			card = c
		}
	}
	code := card.Get("cardCode", "cardcode")
	if code == "" {
		code = r.Get("cardCode", "CARD_Code")
	}
	name := card.Get("cardName")
	if name == "" {
		name = r.Get("cardName")
	}
	kftc, cname := cardInfo(code, name)
	q, _ := strconv.Atoi(firstOf(card.Get("cardQuota", "installment"), r.Get("cardQuota", "payAuthQuota")))
	amount, _ := strconv.ParseInt(strings.TrimSpace(r.Get("price", "TotPrice")), 10, 64)
	paid := parseKST(r.Get("approvedDate", "payDate", "applDate"), r.Get("approvedTime", "payTime", "applTime"))
	if paid.IsZero() {
		paid = now
	}
	return &billkey.Approval{
		TID:        r.Get("tid"),
		ApplyNum:   firstOf(card.Get("approvedNumber"), r.Get("approvedNumber", "payAuthCode", "applNum")),
		Amount:     amount,
		CardCode:   kftc,
		CardName:   cname,
		CardNumber: maskIfPlain(firstOf(card.Get("cardNumber", "cardNum"), r.Get("cardNumber"))),
		CardQuota:  q,
		PaidAt:     paid,
	}
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
