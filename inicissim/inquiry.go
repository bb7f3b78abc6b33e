package inicissim

import (
	"log/slog"
	"net/http"
	"strconv"
)

// handleV2Inquiry serves POST /v2/pg/inquiry (type "inquiry"): data holds
// exactly one of "tid" and "oid". An approval is answered in INICIS's
// inquiry shape (inquiryReply, resultCode "SUCCESS"). An order that was only
// ever declined gets transactionStatus FAIL with failCode/failMsg, and an
// unknown one resultCode R404: both are simulator choices (INICIS's answers
// for those are not public; docs/inicis-simulator.md).
func (s *Simulator) handleV2Inquiry(w http.ResponseWriter, r *http.Request) {
	_, acct, d, ok := s.readV2(w, r, "inquiry")
	if !ok {
		return
	}
	tid, oid := d["tid"], d["oid"]
	if (tid == "") == (oid == "") {
		writeJSON(w, paramReply([]fieldError{{"tid", "tid 또는 oid 중 하나만 입력해야 합니다"}}))
		return
	}
	st := s.st
	st.mu.Lock()
	var a *Approval
	if tid != "" {
		a = st.byTID[tid]
	} else {
		a = st.byMOID[moidKey(acct.MID, oid)]
	}
	if a != nil && a.MID != acct.MID {
		a = nil
	}
	var rep map[string]any
	if a != nil {
		rep = st.inquiryReply(a)
	} else {
		for i := len(st.declines) - 1; i >= 0; i-- {
			dcl := st.declines[i]
			if dcl.MID == acct.MID && (dcl.TID == tid && tid != "" || dcl.OrderID == oid && oid != "") {
				rep = map[string]any{
					"resultCode": codeInquiryOK, "resultMsg": "정상처리되었습니다.", "transactionStatus": "FAIL",
					"tid": dcl.TID, "oid": dcl.OrderID, "price": strconv.FormatInt(dcl.Price, 10),
					"failCode": codeFail, "failMsg": dcl.Message,
				}
				break
			}
		}
	}
	st.mu.Unlock()
	if rep == nil {
		rep = map[string]any{"resultCode": codeNotFound, "resultMsg": msgInquiryEmpty}
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim inquiry", slog.String("mid", acct.MID), slog.String("oid", oid),
		slog.String("tid", tid), slog.Any("status", rep["transactionStatus"]))
	s.reply(w, r, rep)
}

// inquiryReply is an approval as /v2/pg/inquiry answers it, in the shape
// INICIS's inquiry sample and integrators read (docs/inicis.md): flat tid,
// mid, oid, price, goodsName, paymethod, approvedDate/approvedTime, buyer
// fields, transactionStatus APPROVAL / PART_CANCEL / CANCEL,
// availablePartCancel, availablePartCancelPrice, partCancelTransInfo and a
// nested cardInfo with approvedNumber and currencyCode; cancelDate and
// cancelTime once cancelled. The card company fields inside cardInfo
// (cardCode, cardName, cardNumber, cardQuota) are a simulator choice: no
// source shows their names there. The caller holds mu.
func (st *state) inquiryReply(a *Approval) map[string]any {
	t := a.ApprovedAt.In(kst)
	status := "APPROVAL"
	switch a.State {
	case StateCancelled:
		status = "CANCEL"
	case StatePartiallyCancelled:
		status = "PART_CANCEL"
	}
	parts := []map[string]any{}
	var last Refund
	for _, x := range st.refunds {
		if x.TID != a.TID {
			continue
		}
		last = x
		if x.Type == "PartialRefund" {
			at := x.At.In(kst)
			parts = append(parts, map[string]any{
				"tid": x.CancelTID, "requestDate": at.Format("20060102"), "requestTime": at.Format("150405"),
				"requestPrice": strconv.FormatInt(x.Amount, 10),
			})
		}
	}
	rep := map[string]any{
		"resultCode": codeInquiryOK, "resultMsg": "정상처리되었습니다.",
		"tid": a.TID, "mid": a.MID, "oid": a.OrderID, "price": strconv.FormatInt(a.Price, 10),
		"goodsName": a.GoodName, "paymethod": "Card",
		"approvedDate": t.Format("20060102"), "approvedTime": t.Format("150405"),
		"buyerName": a.BuyerName, "buyerTel": a.BuyerTel, "buyerMail": a.BuyerEmail,
		"transactionStatus":        status,
		"availablePartCancel":      a.Remaining > 0,
		"availablePartCancelPrice": strconv.FormatInt(a.Remaining, 10),
		"partCancelTransInfo":      parts,
		"cardInfo": map[string]any{
			"approvedNumber": a.AuthCode, "currencyCode": "WON",
			"cardCode": a.CardCode, "cardName": a.CardName, "cardNumber": a.CardNumber, "cardQuota": a.Quota,
		},
	}
	if status == "CANCEL" && !last.At.IsZero() {
		at := last.At.In(kst)
		rep["cancelDate"], rep["cancelTime"] = at.Format("20060102"), at.Format("150405")
	}
	return rep
}
