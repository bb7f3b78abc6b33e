package inicissim

import (
	"log/slog"
	"net/http"
	"strconv"
)

// handleV1Refund serves POST /api/v1/refund: type=Refund and PartialRefund.
func (s *Simulator) handleV1Refund(w http.ResponseWriter, r *http.Request) {
	f, ok := readForm(w, r)
	if !ok {
		return
	}
	typ := f.Get("type")
	names := []string{"type", "paymethod", "timestamp", "clientIp", "mid", "tid", "hashData"}
	switch typ {
	case "Refund", "":
	case "PartialRefund":
		names = append(names, "price", "confirmPrice")
	default:
		writeJSON(w, failReply(refBadType))
		return
	}
	if errs := blanks(f.Get, names...); len(errs) > 0 {
		writeJSON(w, paramReply(errs))
		return
	}
	acct, bad := s.checkCommon(f.Get("mid"), f.Get("timestamp"))
	if bad != nil {
		writeJSON(w, bad)
		return
	}
	parts := []string{acct.APIKey, typ, f.Get("paymethod"), f.Get("timestamp"), f.Get("clientIp"), f.Get("mid"), f.Get("tid")}
	if typ == "PartialRefund" {
		parts = append(parts, f.Get("price"), f.Get("confirmPrice"))
	}
	if !hashOK(f.Get("hashData"), sha512Of(parts...)) {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim refund: hash mismatch", slog.String("mid", acct.MID), slog.String("tid", f.Get("tid")))
		writeJSON(w, failReply(refHash))
		return
	}
	s.refund(w, r, acct, f.Get("tid"), typ == "PartialRefund", f.Get("price"), f.Get("confirmPrice"))
}

// refund cancels all or part of an approval and replies.
func (s *Simulator) refund(w http.ResponseWriter, r *http.Request, acct Account, tid string, partial bool, priceS, confirmS string) {
	var price, confirm int64
	if partial {
		var errs []fieldError
		if !isDigits(priceS, 12) {
			errs = append(errs, fieldError{"price", msgFormat})
		}
		if !isDigits(confirmS, 12) {
			errs = append(errs, fieldError{"confirmPrice", msgFormat})
		}
		if len(errs) > 0 {
			writeJSON(w, paramReply(errs))
			return
		}
		price, _ = strconv.ParseInt(priceS, 10, 64)
		confirm, _ = strconv.ParseInt(confirmS, 10, 64)
	}
	now := s.cfg.Now()
	t := now.In(kst)
	base := map[string]any{
		"cancelDate": t.Format("20060102"), "cancelTime": t.Format("150405"),
		"receiptInfo": "", "cshrCancelNum": "",
	}
	if partial {
		// A partial cancel is answered with prtcDate/prtcTime, not
		// cancelDate/cancelTime (INICIS's refund reply table).
		base = map[string]any{"prtcDate": t.Format("20060102"), "prtcTime": t.Format("150405")}
	}
	st := s.st
	st.mu.Lock()
	a := st.byTID[tid]
	var ref *refusal
	switch {
	case a == nil || a.MID != acct.MID:
		ref = refNoTx
	case a.Remaining == 0:
		st.mu.Unlock()
		base["resultCode"], base["resultMsg"], base["detailResultCode"] = codeFail, msgAlreadyDone, detailAlready
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim refund: already cancelled", slog.String("mid", acct.MID), slog.String("tid", tid))
		writeJSON(w, base)
		return
	case partial && (price <= 0 || price > a.Remaining):
		ref = refOverRefund
	case partial && confirm != a.Remaining-price:
		ref = refConfirm
	}
	if ref != nil {
		st.mu.Unlock()
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim refund: refused", slog.String("mid", acct.MID), slog.String("tid", tid), slog.String("code", ref.Code))
		writeJSON(w, failReply(ref))
		return
	}
	rec := Refund{MID: acct.MID, TID: tid, Type: "Refund", Amount: a.Remaining, At: now}
	if partial {
		rec.Type, rec.Amount = "PartialRefund", price
		rec.CancelTID = newTID("INIAPICARD", acct.MID, now)
	}
	a.Cancelled += rec.Amount
	a.Remaining -= rec.Amount
	rec.Remaining = a.Remaining
	if a.Remaining == 0 {
		a.State = StateCancelled
	} else {
		a.State = StatePartiallyCancelled
	}
	st.refunds = append(st.refunds, rec)
	st.persistApproval(a)
	st.persistRefund()
	count := 0
	for _, x := range st.refunds {
		if x.TID == tid {
			count++
		}
	}
	st.mu.Unlock()

	base["resultCode"], base["resultMsg"], base["detailResultCode"] = codeOK, msgRefundOK, "000000"
	if partial {
		base["tid"] = rec.CancelTID
		base["prtcTid"] = tid
		base["prtcPrice"] = strconv.FormatInt(price, 10)
		base["prtcRemains"] = strconv.FormatInt(rec.Remaining, 10)
		base["prtcCnt"] = strconv.Itoa(count)
		base["prtcType"] = "1" // 1 부분취소 (0 would be 재승인방식)
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim refund: done", slog.String("mid", acct.MID), slog.String("tid", tid),
		slog.String("type", rec.Type), slog.Int64("amount", rec.Amount), slog.Int64("remaining", rec.Remaining))
	s.reply(w, r, base)
}
