package inicissim

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// liteFail answers an INILite request INICIS would refuse: with a valid
// returnurl, a page that posts resultcode "01" and the message there when
// the buyer clicks 확인; otherwise a plain error page.
func (s *Simulator) liteFail(w http.ResponseWriter, r *http.Request, f url.Values, ref *refusal) {
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim inilite: refused", slog.String("mid", f.Get("mid")), slog.String("orderid", f.Get("orderid")), slog.String("code", ref.Code))
	if !validReturnURL(f.Get("returnurl")) {
		s.message(w, http.StatusBadRequest, ref)
		return
	}
	s.render(w, http.StatusOK, "post.html", postPage{
		Title: "결제 오류", Code: ref.Code, Message: ref.Text, Action: f.Get("returnurl"), Manual: true,
		Fields: []field{{"resultcode", codeFail}, {"resultmsg", ref.apiMsg()}, {"mid", f.Get("mid")}, {"orderid", f.Get("orderid")},
			{"p_noti", f.Get("p_noti")}, {"merchantreserved", f.Get("merchantreserved")}},
	})
}

// handleLiteOpen serves POST /inibill/inibill_card.jsp: the legacy INILite
// mobile billing window. hashdata = SHA256(mid + orderid + timestamp +
// INILiteKey).
func (s *Simulator) handleLiteOpen(w http.ResponseWriter, r *http.Request) {
	f, ok := s.readPageForm(w, r)
	if !ok {
		return
	}
	if !validReturnURL(f.Get("returnurl")) {
		s.liteFail(w, r, f, &refusal{"ER0102", "returnurl이 올바른 URL이 아닙니다."})
		return
	}
	var missing []string
	for _, n := range []string{"mid", "orderid", "price", "timestamp", "hashdata"} {
		if strings.TrimSpace(f.Get(n)) == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		s.liteFail(w, r, f, &refusal{"ER0102", msgParam + " (" + strings.Join(missing, ", ") + ": " + msgBlank + ")"})
		return
	}
	acct, known := s.account(f.Get("mid"))
	ts := f.Get("timestamp")
	_, tsErr := time.ParseInLocation("20060102150405", ts, kst)
	switch {
	case !known:
		s.liteFail(w, r, f, refUnknownMID)
		return
	case acct.LiteKey == "":
		s.liteFail(w, r, f, refNoLiteKey)
		return
	case len(ts) != 14 || !isDigits(ts, 14) || tsErr != nil:
		s.liteFail(w, r, f, &refusal{codeLength, msgLengthTS})
		return
	case len(f.Get("orderid")) > 64:
		s.liteFail(w, r, f, &refusal{"ER0102", "orderid는 64바이트 이하여야 합니다."})
		return
	case !isDigits(f.Get("price"), 12):
		s.liteFail(w, r, f, &refusal{"ER0102", "price " + msgFormat})
		return
	case !hashOK(f.Get("hashdata"), sha256Of(f.Get("mid"), f.Get("orderid"), ts, acct.LiteKey)):
		s.liteFail(w, r, f, &refusal{refHash.Code, "[위변조오류|hashdata가 일치하지 않습니다.]"})
		return
	}
	p, _ := strconv.ParseInt(f.Get("price"), 10, 64)
	win := &window{
		kind: "inilite", acct: acct, orderID: f.Get("orderid"), price: p, goodName: f.Get("goodname"),
		buyerName: f.Get("buyername"), buyerTel: f.Get("buyertel"), buyerMail: f.Get("buyeremail"),
		returnURL: f.Get("returnurl"), charset: "UTF-8", notice: f.Get("p_noti"), merchantReserved: f.Get("merchantreserved"),
	}
	s.openWindow(win)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim inilite: window opened", slog.String("mid", acct.MID), slog.String("orderid", win.orderID))
	s.render(w, http.StatusOK, "window.html", s.windowPage(r, win, ""))
}

// handleLiteAuth serves the mobile window's card form: the key is issued
// at once and the result posted to returnurl.
func (s *Simulator) handleLiteAuth(w http.ResponseWriter, r *http.Request) {
	f, ok := s.readPageForm(w, r)
	if !ok {
		return
	}
	win := s.findWindow(f.Get(InputSessionID), "inilite")
	if win == nil {
		s.message(w, http.StatusGone, &refusal{"ER0102", "결제 세션이 없거나 만료되었습니다."})
		return
	}
	card, msg := parseCardForm(f)
	if msg != "" {
		s.render(w, http.StatusOK, "window.html", s.keptPage(r, win, msg, f))
		return
	}
	if !s.closeWindow(win.id) {
		s.message(w, http.StatusGone, &refusal{"ER0102", "이미 처리된 결제 세션입니다."})
		return
	}
	now := s.cfg.Now()
	common := []field{{"mid", win.acct.MID}, {"orderid", win.orderID}, {"p_noti", win.notice}, {"merchantreserved", win.merchantReserved}}
	prof, ref := evaluateCard(card.number, card.expiry, card.pwd, now)
	if ref != nil {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim inilite: card refused", slog.String("mid", win.acct.MID), slog.String("orderid", win.orderID), slog.String("code", ref.Code))
		s.render(w, http.StatusOK, "post.html", postPage{
			Title: "카드 등록 실패", Code: ref.Code, Message: ref.Text, Action: win.returnURL,
			Fields: append([]field{{"resultcode", codeFail}, {"resultmsg", ref.apiMsg()}}, common...),
		})
		return
	}
	key := s.issueKey(win.acct.MID, win.orderID, "inilite", newTID("INIpayBill", win.acct.MID, now), prof, now)
	t := now.In(kst)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim inilite: billing key issued", slog.String("mid", win.acct.MID), slog.String("orderid", win.orderID), slog.String("tid", key.TID))
	s.render(w, http.StatusOK, "post.html", postPage{
		Title: "카드 등록 완료", Message: "가맹점으로 결과를 전송하고 있습니다…", Action: win.returnURL,
		Fields: append([]field{
			{"resultcode", liteOK}, {"resultmsg", msgLiteOK}, {"tid", key.TID}, {"billkey", key.BillKey},
			{"authkey", newLiteAuthKey(win.acct.MID)}, {"cardcd", key.CardCode}, {"cardno", key.CardNumber},
			{"cardkind", "0"}, {"checkflag", "0"}, {"pgauthdate", t.Format("20060102")}, {"pgauthtime", t.Format("150405")},
			{"data1", ""},
		}, common...),
	})
}

// handleLiteCancel serves the mobile window's cancel button: resultcode
// LiteUserCancelCode is posted to returnurl.
func (s *Simulator) handleLiteCancel(w http.ResponseWriter, r *http.Request) {
	f, ok := s.readPageForm(w, r)
	if !ok {
		return
	}
	win := s.findWindow(f.Get(InputSessionID), "inilite")
	if win == nil || !s.closeWindow(win.id) {
		s.message(w, http.StatusGone, &refusal{"ER0102", "결제 세션이 없거나 만료되었습니다."})
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim inilite: cancelled", slog.String("mid", win.acct.MID), slog.String("orderid", win.orderID))
	s.render(w, http.StatusOK, "post.html", postPage{
		Title: "결제 취소", Message: msgStdCancel, Action: win.returnURL,
		Fields: []field{{"resultcode", liteCancel}, {"resultmsg", msgLiteCancel}, {"mid", win.acct.MID}, {"orderid", win.orderID},
			{"p_noti", win.notice}, {"merchantreserved", win.merchantReserved}},
	})
}
