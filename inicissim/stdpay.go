package inicissim

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// stdIDCs are the idc_name values INICIS posts to returnUrl (fc, ks: the
// production approval centres; stg: staging). The simulator issues grants
// from each in turn, so a client's authUrl allow-list meets all three.
var stdIDCs = []string{"fc", "ks", "stg"}

// idcPath is the path prefix under which the simulator answers as data
// centre idc: "/idc/fc", "/idc/ks", and the root for stg.
func idcPath(idc string) string {
	if idc == "stg" {
		return ""
	}
	return "/idc/" + idc
}

// handleStdJS serves a stand-in for INIStdPay.js: INIStdPay.pay(formId)
// posts the merchant's form to the simulator's PC window in the current
// browsing context (page or iframe), instead of INICIS's own overlay.
func (s *Simulator) handleStdJS(w http.ResponseWriter, r *http.Request) {
	u, _ := json.Marshal(s.base(r) + "/stdpay/window")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `/* INIStdPay.js stand-in: billkey INICIS simulator */
(function () {
  "use strict";
  var WINDOW_URL = %s;
  function pay(formId) {
    var f = typeof formId === "string" ? document.getElementById(formId) : formId;
    if (!f) { alert("INIStdPay: 결제 폼을 찾을 수 없습니다: " + formId); return false; }
    f.setAttribute("action", WINDOW_URL);
    f.setAttribute("method", "post");
    f.setAttribute("accept-charset", "UTF-8");
    f.removeAttribute("target");
    HTMLFormElement.prototype.submit.call(f);
    return true;
  }
  window.INIStdPay = { pay: pay, viewOff: function () {} };
})();
`, u)
}

// stdFail answers a window request INICIS would refuse: with a valid
// returnUrl, a page that posts the refusal there when the buyer clicks 확인;
// otherwise a plain error page.
func (s *Simulator) stdFail(w http.ResponseWriter, r *http.Request, f url.Values, ref *refusal) {
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim stdpay: refused", slog.String("mid", f.Get("mid")), slog.String("oid", f.Get("oid")), slog.String("code", ref.Code))
	if !validReturnURL(f.Get("returnUrl")) {
		s.message(w, http.StatusBadRequest, ref)
		return
	}
	s.render(w, http.StatusOK, "post.html", postPage{
		Title: "결제 오류", Code: ref.Code, Message: ref.Text, Action: f.Get("returnUrl"), Manual: true,
		Fields: []field{{"resultCode", ref.Code}, {"resultMsg", ref.Text}, {"mid", f.Get("mid")}, {"orderNumber", f.Get("oid")},
			{"merchantData", f.Get("merchantData")}},
	})
}

// handleStdOpen serves POST /stdpay/window: STEP 1 of INIStdPay billing auth.
// Besides the signatures it refuses what INIStdPay.js itself refuses before
// posting (oid over 40 characters, buyertel blank or over 20, popup without
// popupUrl) and goodname, buyername and buyeremail over INICIS's byte
// limits; answering those with V023 is a simulator choice.
func (s *Simulator) handleStdOpen(w http.ResponseWriter, r *http.Request) {
	f, ok := s.readPageForm(w, r)
	if !ok {
		return
	}
	param := func(detail string) *refusal { return &refusal{refStdParam.Code, refStdParam.Text + "[" + detail + "]"} }
	if !validReturnURL(f.Get("returnUrl")) {
		s.stdFail(w, r, f, param("returnUrl이 올바른 URL이 아닙니다"))
		return
	}
	var missing []string
	for _, n := range []string{"mid", "oid", "price", "goodname", "buyeremail", "timestamp", "signature", "mKey", "acceptmethod"} {
		if strings.TrimSpace(f.Get(n)) == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		s.stdFail(w, r, f, param("필수 파라미터 누락: "+strings.Join(missing, ", ")))
		return
	}
	acct, known := s.account(f.Get("mid"))
	ts, price := f.Get("timestamp"), f.Get("price")
	switch {
	case !known:
		s.stdFail(w, r, f, param("등록되지 않은 상점아이디입니다"))
		return
	case len(ts) != 13 || !isDigits(ts, 13):
		s.stdFail(w, r, f, param("timestamp는 13자리 밀리초여야 합니다"))
		return
	case !isDigits(price, 12):
		s.stdFail(w, r, f, param("price 형식 오류"))
		return
	case charLen(f.Get("oid")) > 40:
		s.stdFail(w, r, f, param("oid는 40자 이하여야 합니다"))
		return
	case strings.TrimSpace(f.Get("buyertel")) == "" || charLen(f.Get("buyertel")) > 20:
		s.stdFail(w, r, f, param("buyertel은 1~20자여야 합니다"))
		return
	case len(f.Get("goodname")) > 40:
		s.stdFail(w, r, f, param("goodname은 40바이트 이하여야 합니다"))
		return
	case len(f.Get("buyername")) > 30:
		s.stdFail(w, r, f, param("buyername은 30바이트 이하여야 합니다"))
		return
	case len(f.Get("buyeremail")) > 60:
		s.stdFail(w, r, f, param("buyeremail은 60바이트 이하여야 합니다"))
		return
	case strings.EqualFold(f.Get("payViewType"), "popup") && strings.TrimSpace(f.Get("popupUrl")) == "":
		s.stdFail(w, r, f, param("payViewType를 popup으로 설정한 경우 반드시 popupUrl를 입력해야 합니다."))
		return
	case f.Get("charset") != "" && !strings.EqualFold(f.Get("charset"), "UTF-8"):
		s.stdFail(w, r, f, param("charset은 UTF-8만 지원합니다"))
		return
	case !strings.Contains(strings.ToUpper(f.Get("acceptmethod")), "BILLAUTH"):
		s.stdFail(w, r, f, param("BILLAUTH(빌링 인증)가 아닌 결제는 지원하지 않습니다"))
		return
	case !hashOK(f.Get("mKey"), sha256Of(acct.SignKey)):
		s.stdFail(w, r, f, refStdSignKey)
		return
	case !hashOK(f.Get("signature"), sha256Of("oid=", f.Get("oid"), "&price=", price, "&timestamp=", ts)):
		s.stdFail(w, r, f, refStdSignature)
		return
	}
	if f.Get("use_chkfake") == "Y" || f.Get("verification") != "" {
		if !hashOK(f.Get("verification"), sha256Of("oid=", f.Get("oid"), "&price=", price, "&signKey=", acct.SignKey, "&timestamp=", ts)) {
			s.stdFail(w, r, f, refStdSignKey)
			return
		}
	}
	p, _ := strconv.ParseInt(price, 10, 64)
	win := &window{
		kind: "stdpay", acct: acct, orderID: f.Get("oid"), price: p, goodName: f.Get("goodname"),
		buyerName: f.Get("buyername"), buyerTel: f.Get("buyertel"), buyerMail: f.Get("buyeremail"),
		returnURL: f.Get("returnUrl"), closeURL: f.Get("closeUrl"), charset: "UTF-8", merchantData: f.Get("merchantData"),
	}
	if win.closeURL != "" && !validReturnURL(win.closeURL) {
		win.closeURL = ""
	}
	s.openWindow(win)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim stdpay: window opened", slog.String("mid", acct.MID), slog.String("oid", win.orderID))
	s.render(w, http.StatusOK, "window.html", s.windowPage(r, win, ""))
}

// handleStdAuth serves the PC window's card form: STEP 2 posts to returnUrl.
func (s *Simulator) handleStdAuth(w http.ResponseWriter, r *http.Request) {
	f, ok := s.readPageForm(w, r)
	if !ok {
		return
	}
	win := s.findWindow(f.Get(InputSessionID), "stdpay")
	if win == nil {
		s.message(w, http.StatusGone, &refusal{refStdParam.Code, "결제 세션이 없거나 만료되었습니다."})
		return
	}
	card, msg := parseCardForm(f)
	if msg != "" {
		s.render(w, http.StatusOK, "window.html", s.keptPage(r, win, msg, f))
		return
	}
	if !s.closeWindow(win.id) {
		s.message(w, http.StatusGone, &refusal{refStdParam.Code, "이미 처리된 결제 세션입니다."})
		return
	}
	now := s.cfg.Now()
	prof, ref := evaluateCard(card.number, card.expiry, card.pwd, now)
	if ref != nil {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim stdpay: card refused", slog.String("mid", win.acct.MID), slog.String("oid", win.orderID), slog.String("code", ref.Code))
		s.render(w, http.StatusOK, "post.html", postPage{
			Title: "카드 등록 실패", Code: ref.Code, Message: ref.Text, Action: win.returnURL,
			Fields: []field{{"resultCode", ref.Code}, {"resultMsg", ref.Text}, {"mid", win.acct.MID}, {"orderNumber", win.orderID},
				{"merchantData", win.merchantData}, {"charset", win.charset}},
		})
		return
	}
	g := &authGrant{token: newAuthToken(), idc: stdIDCs[(s.idcTurn.Add(1)-1)%uint64(len(stdIDCs))], win: *win, profile: prof, expires: now.Add(s.cfg.TokenTTL)}
	s.st.mu.Lock()
	for s.st.tokens[g.token] != nil {
		g.token = newAuthToken()
	}
	s.st.tokens[g.token] = g
	s.st.persistGrant(g)
	s.st.mu.Unlock()
	base := s.base(r) + idcPath(g.idc)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim stdpay: authenticated", slog.String("mid", win.acct.MID), slog.String("oid", win.orderID))
	s.render(w, http.StatusOK, "post.html", postPage{
		Title: "카드 인증 완료", Message: "가맹점으로 결과를 전송하고 있습니다…", Action: win.returnURL,
		Fields: []field{
			{"resultCode", codeStdOK}, {"resultMsg", "성공"}, {"mid", win.acct.MID}, {"orderNumber", win.orderID},
			{"authToken", g.token}, {"authUrl", base + "/api/payAuth"}, {"netCancelUrl", base + "/api/netCancel"},
			{"checkAckUrl", base + "/api/checkAck"}, {"idc_name", g.idc}, {"charset", win.charset},
			{"merchantData", win.merchantData}, {"returnUrl", win.returnURL},
		},
	})
}

// handleStdCancel serves the PC window's cancel/close button: closeUrl is
// loaded when the merchant gave one (as INICIS does); otherwise the cancel
// (StdPayUserCancelCode) is posted to returnUrl.
func (s *Simulator) handleStdCancel(w http.ResponseWriter, r *http.Request) {
	f, ok := s.readPageForm(w, r)
	if !ok {
		return
	}
	win := s.findWindow(f.Get(InputSessionID), "stdpay")
	if win == nil || !s.closeWindow(win.id) {
		s.message(w, http.StatusGone, &refusal{refStdParam.Code, "결제 세션이 없거나 만료되었습니다."})
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim stdpay: cancelled", slog.String("mid", win.acct.MID), slog.String("oid", win.orderID))
	if win.closeURL != "" {
		s.render(w, http.StatusOK, "message.html", messagePage{Title: "결제 취소", Message: msgStdCancel, Link: win.closeURL})
		return
	}
	s.render(w, http.StatusOK, "post.html", postPage{
		Title: "결제 취소", Message: msgStdCancel, Action: win.returnURL,
		Fields: []field{{"resultCode", stdCancelCode}, {"resultMsg", msgStdCancel}, {"mid", win.acct.MID},
			{"orderNumber", win.orderID}, {"merchantData", win.merchantData}, {"charset", win.charset}},
	})
}

func stdRefusal(ref *refusal) map[string]any {
	return map[string]any{"resultCode": ref.Code, "resultMsg": ref.Text}
}

// checkAuthRequest verifies a STEP 3 (payAuth / netCancel) request and
// returns its grant; the caller holds no lock.
func (s *Simulator) checkAuthRequest(w http.ResponseWriter, r *http.Request) (*authGrant, url.Values, bool) {
	f, ok := readForm(w, r)
	if !ok {
		return nil, nil, false
	}
	var missing []string
	for _, n := range []string{"mid", "authToken", "timestamp", "signature"} {
		if f.Get(n) == "" {
			missing = append(missing, n)
		}
	}
	param := func(detail string) map[string]any {
		return stdRefusal(&refusal{refStdParam.Code, refStdParam.Text + "[" + detail + "]"})
	}
	ts := f.Get("timestamp")
	acct, known := s.account(f.Get("mid"))
	switch {
	case len(missing) > 0:
		writeJSON(w, param("필수 파라미터 누락: "+strings.Join(missing, ", ")))
		return nil, nil, false
	case !known:
		writeJSON(w, param("등록되지 않은 상점아이디입니다"))
		return nil, nil, false
	case len(ts) != 13 || !isDigits(ts, 13):
		writeJSON(w, param("timestamp는 13자리 밀리초여야 합니다"))
		return nil, nil, false
	case f.Get("charset") != "" && !strings.EqualFold(f.Get("charset"), "UTF-8"):
		writeJSON(w, param("charset은 UTF-8만 지원합니다"))
		return nil, nil, false
	case f.Get("format") != "" && !strings.EqualFold(f.Get("format"), "JSON"):
		writeJSON(w, param("format은 JSON만 지원합니다"))
		return nil, nil, false
	case !hashOK(f.Get("signature"), sha256Of("authToken=", f.Get("authToken"), "&timestamp=", ts)):
		writeJSON(w, stdRefusal(refStdSignature))
		return nil, nil, false
	case f.Get("verification") != "" &&
		!hashOK(f.Get("verification"), sha256Of("authToken=", f.Get("authToken"), "&signKey=", acct.SignKey, "&timestamp=", ts)):
		writeJSON(w, stdRefusal(refStdSignKey))
		return nil, nil, false
	}
	s.st.mu.Lock()
	g := s.st.tokens[f.Get("authToken")]
	s.st.mu.Unlock()
	idc := r.PathValue("idc")
	if idc == "" {
		idc = "stg"
	}
	if g == nil || g.win.acct.MID != acct.MID || g.idc != idc {
		// A token is known only to the data centre that issued it.
		writeJSON(w, stdRefusal(refStdToken))
		return nil, nil, false
	}
	return g, f, true
}

// handlePayAuth serves POST /api/payAuth: STEP 3/4, issuing the billKey.
func (s *Simulator) handlePayAuth(w http.ResponseWriter, r *http.Request) {
	g, f, ok := s.checkAuthRequest(w, r)
	if !ok {
		return
	}
	now := s.cfg.Now()
	s.st.mu.Lock()
	if g.approved || g.netCancelled || now.After(g.expires) {
		s.st.mu.Unlock()
		writeJSON(w, stdRefusal(refStdToken))
		return
	}
	g.approved = true
	win := g.win
	key := s.st.issueKey(win.acct.MID, win.orderID, "stdpay", newTID("StdpayBill", win.acct.MID, now), g.profile, now)
	g.key = key
	s.st.persistGrant(g)
	s.st.mu.Unlock()
	price := strconv.FormatInt(win.price, 10)
	t := now.In(kst)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim payAuth: billing key issued", slog.String("mid", win.acct.MID), slog.String("oid", win.orderID), slog.String("tid", key.TID))
	s.reply(w, r, map[string]any{
		"resultCode": codeStdOK, "resultMsg": msgStdOK,
		"mid": win.acct.MID, "tid": key.TID, "MOID": win.orderID, "TotPrice": price,
		"goodName": win.goodName, "goodsName": win.goodName,
		"payMethod": "Auth", "payMethodDetail": "BILL_CARD",
		"applDate": t.Format("20060102"), "applTime": t.Format("150405"),
		"buyerName": win.buyerName, "buyerTel": win.buyerTel, "buyerEmail": win.buyerMail, "custEmail": win.buyerMail,
		"currency":      "WON",
		"authSignature": authSignatureOf(win.acct.MID, win.orderID, price, f.Get("timestamp")),
		"payDevice":     "PC",
		"CARD_Num":      key.CardNumber, "CARD_Quota": "00", "CARD_Interest": "0",
		"CARD_Code": key.CardCode, "CARD_BankCode": key.CardCode, "CARD_CheckFlag": "0",
		"CARD_BillKey": key.BillKey, "CARD_AuthType": "",
		"EventCode": "", "FlgNotiSendChk": "", "p_Sub": "", "p_SubCnt": "",
	})
}

// handleNetCancel serves POST /api/netCancel: it voids an authToken and,
// when payAuth had issued a key, revokes that key. Repeating it is harmless.
func (s *Simulator) handleNetCancel(w http.ResponseWriter, r *http.Request) {
	g, _, ok := s.checkAuthRequest(w, r)
	if !ok {
		return
	}
	now := s.cfg.Now()
	s.st.mu.Lock()
	first := !g.netCancelled
	g.netCancelled = true
	if first {
		nc := NetCancel{MID: g.win.acct.MID, OrderID: g.win.orderID, At: now}
		if g.approved && g.key.BillKey != "" {
			if k := s.st.keys[g.key.BillKey]; k != nil {
				k.Revoked = true
				s.st.persistKey(k)
			}
			nc.TID, nc.BillKey = g.key.TID, g.key.BillKey
		}
		s.st.netCancels = append(s.st.netCancels, nc)
		s.st.persistNetCancel()
		s.st.persistGrant(g)
	}
	tid := g.key.TID
	s.st.mu.Unlock()
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim netCancel", slog.String("mid", g.win.acct.MID), slog.String("oid", g.win.orderID), slog.Bool("first", first))
	s.reply(w, r, map[string]any{"resultCode": codeStdOK, "resultMsg": "망취소 성공", "tid": tid})
}

// handleCheckAck serves POST /api/checkAck, which the simulator accepts
// without checks.
func (s *Simulator) handleCheckAck(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"resultCode": codeStdOK, "resultMsg": msgStdOK})
}
