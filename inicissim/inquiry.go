package inicissim

import (
	"log/slog"
	"net/http"
	"strconv"
)

// handleV2Inquiry serves POST /v2/pg/inquiry (type "inquiry"): data holds
// exactly one of "tid" and "oid". The reply schema is the simulator's choice
// (INICIS's is not public): resultCode "00" with transactionStatus
// APPROVAL / PART_CANCEL / CANCEL and the approval fields, or FAIL with
// failCode/failMsg when the order was only ever declined, or resultCode
// R404 when nothing is known.
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
		rep = approvalReply(a)
		rep["resultMsg"] = "정상처리되었습니다."
		rep["oid"] = a.OrderID
		rep["cancelPrice"] = strconv.FormatInt(a.Cancelled, 10)
		rep["remainPrice"] = strconv.FormatInt(a.Remaining, 10)
		switch a.State {
		case StateCancelled:
			rep["transactionStatus"] = "CANCEL"
		case StatePartiallyCancelled:
			rep["transactionStatus"] = "PART_CANCEL"
		default:
			rep["transactionStatus"] = "APPROVAL"
		}
	} else {
		for i := len(st.declines) - 1; i >= 0; i-- {
			dcl := st.declines[i]
			if dcl.MID == acct.MID && (dcl.TID == tid && tid != "" || dcl.OrderID == oid && oid != "") {
				rep = map[string]any{
					"resultCode": codeOK, "resultMsg": "정상처리되었습니다.", "transactionStatus": "FAIL",
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
