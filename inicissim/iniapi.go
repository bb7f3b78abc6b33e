package inicissim

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const maxBody = 64 << 10

// fieldError is one entry of an ER0102 errorDetails list.
type fieldError struct {
	Field    string `json:"field"`
	Contents string `json:"contents"`
}

func paramReply(errs []fieldError) map[string]any {
	return map[string]any{"resultCode": codeParam, "resultMsg": msgParam, "errorDetails": errs}
}

func failReply(ref *refusal) map[string]any {
	return map[string]any{"resultCode": codeFail, "resultMsg": ref.apiMsg()}
}

// blanks lists the required fields that are empty.
func blanks(get func(string) string, names ...string) []fieldError {
	var errs []fieldError
	for _, n := range names {
		if strings.TrimSpace(get(n)) == "" {
			errs = append(errs, fieldError{n, msgBlank})
		}
	}
	return errs
}

// isDigits reports whether s is 1..max ASCII digits.
func isDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkCommon validates timestamp and MID, the checks every INIAPI call
// shares after its blank-field check. It returns the account or the reply.
func (s *Simulator) checkCommon(mid, ts string) (Account, map[string]any) {
	if len(ts) != 14 || !isDigits(ts, 14) {
		return Account{}, map[string]any{"resultCode": codeLength, "resultMsg": msgLengthTS}
	}
	t, err := time.ParseInLocation("20060102150405", ts, kst)
	if err != nil {
		return Account{}, map[string]any{"resultCode": codeLength, "resultMsg": msgLengthTS}
	}
	if s.cfg.MaxSkew > 0 {
		if d := s.cfg.Now().Sub(t); d > s.cfg.MaxSkew || d < -s.cfg.MaxSkew {
			return Account{}, failReply(refSkew)
		}
	}
	acct, ok := s.account(mid)
	if !ok {
		return Account{}, failReply(refUnknownMID)
	}
	return acct, nil
}

// readForm parses a form-urlencoded body (query parameters are ignored).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, paramReply([]fieldError{{"body", msgFormat}}))
		return nil, false
	}
	return r.PostForm, true
}

// handleV1Billing serves POST /api/v1/billing: type=Billing (charge a
// billKey) and type=Auth (key-in issuance).
func (s *Simulator) handleV1Billing(w http.ResponseWriter, r *http.Request) {
	f, ok := readForm(w, r)
	if !ok {
		return
	}
	switch f.Get("type") {
	case "Billing":
		s.v1Charge(w, r, f)
	case "Auth":
		s.v1Issue(w, r, f)
	case "":
		writeJSON(w, paramReply([]fieldError{{"type", msgBlank}}))
	default:
		writeJSON(w, failReply(refBadType))
	}
}

func (s *Simulator) v1Charge(w http.ResponseWriter, r *http.Request, f url.Values) {
	errs := blanks(f.Get, "paymethod", "timestamp", "clientIp", "mid", "moid", "goodName", "buyerName", "buyerEmail", "buyerTel", "price", "billKey", "hashData")
	if f.Get("paymethod") != "" && f.Get("paymethod") != "Card" {
		errs = append(errs, fieldError{"paymethod", msgFormat})
	}
	if len(errs) > 0 {
		writeJSON(w, paramReply(errs))
		return
	}
	if l := tooLong(f.Get, apiLimits); l != nil {
		writeJSON(w, lengthReply(l))
		return
	}
	acct, bad := s.checkCommon(f.Get("mid"), f.Get("timestamp"))
	if bad != nil {
		writeJSON(w, bad)
		return
	}
	want := sha512Of(acct.APIKey, "Billing", f.Get("paymethod"), f.Get("timestamp"), f.Get("clientIp"), f.Get("mid"),
		f.Get("moid"), f.Get("price"), f.Get("billKey"))
	if !hashOK(f.Get("hashData"), want) {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim billing: hash mismatch", slog.String("mid", acct.MID), slog.String("moid", f.Get("moid")))
		writeJSON(w, failReply(refHash))
		return
	}
	s.charge(w, r, acct, chargeInOf(f.Get))
}

// chargeIn is a verified billing request.
type chargeIn struct {
	moid, price, billKey, quota              string
	goodName, buyerName, buyerTel, buyerMail string
}

// chargeInOf reads a billing request's fields (v1 form or v2 data).
func chargeInOf(get func(string) string) chargeIn {
	return chargeIn{moid: get("moid"), price: get("price"), billKey: get("billKey"), quota: get("cardQuota"),
		goodName: get("goodName"), buyerName: get("buyerName"), buyerTel: get("buyerTel"), buyerMail: get("buyerEmail")}
}

// charge approves or declines a verified billing request and replies.
func (s *Simulator) charge(w http.ResponseWriter, r *http.Request, acct Account, in chargeIn) {
	if !isDigits(in.price, 12) {
		writeJSON(w, paramReply([]fieldError{{"price", msgFormat}}))
		return
	}
	price, _ := strconv.ParseInt(in.price, 10, 64)
	quota := in.quota
	if quota == "" {
		quota = "00"
	}
	now := s.cfg.Now()
	drop := dropped(r)

	st := s.st
	st.mu.Lock()
	tid := newTID("INIAPICARD", acct.MID, now)
	key := st.keys[in.billKey]
	var ref *refusal
	switch {
	case price <= 0:
		ref = refPriceZero
	case key == nil || key.MID != acct.MID || key.Revoked:
		ref = refUnknownKey
	case st.byMOID[moidKey(acct.MID, in.moid)] != nil:
		st.mu.Unlock()
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim billing: duplicate moid", slog.String("mid", acct.MID), slog.String("moid", in.moid))
		writeJSON(w, failReply(refDuplicate))
		return
	default:
		ref = chargeRefusal(key.profile, now)
	}
	if ref != nil {
		st.declines = append(st.declines, Decline{MID: acct.MID, TID: tid, OrderID: in.moid, BillKey: in.billKey, Price: price,
			Code: ref.Code, Message: ref.apiMsg(), At: now})
		st.persistDecline()
		st.mu.Unlock()
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim billing: declined", slog.String("mid", acct.MID), slog.String("moid", in.moid),
			slog.String("tid", tid), slog.String("code", ref.Code))
		rep := failReply(ref)
		rep["tid"] = tid
		writeJSON(w, rep)
		return
	}
	hang := key.profile.Behavior == ChargeHang
	a := &Approval{
		MID: acct.MID, TID: tid, OrderID: in.moid, BillKey: in.billKey, AuthCode: newAuthCode(),
		Price: price, Remaining: price, State: StateApproved,
		CardCode: key.CardCode, CardName: key.CardName, CardNumber: key.CardNumber, Quota: quota,
		GoodName: in.goodName, BuyerName: in.buyerName, BuyerTel: in.buyerTel, BuyerEmail: in.buyerMail,
		ApprovedAt: now, ReplyDropped: hang || drop,
	}
	st.approvals = append(st.approvals, a)
	st.byTID[tid] = a
	st.byMOID[moidKey(acct.MID, in.moid)] = a
	st.persistApproval(a)
	rep := approvalReply(a)
	st.mu.Unlock()

	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim billing: approved", slog.String("mid", acct.MID), slog.String("moid", in.moid),
		slog.String("tid", tid), slog.Int64("price", price), slog.Bool("reply_dropped", a.ReplyDropped))
	if hang {
		s.hold(w, r)
		return
	}
	s.reply(w, r, rep)
}

func approvalReply(a *Approval) map[string]any {
	t := a.ApprovedAt.In(kst)
	return map[string]any{
		"resultCode":  codeOK,
		"resultMsg":   msgBillingOK,
		"tid":         a.TID,
		"payDate":     t.Format("20060102"),
		"payTime":     t.Format("150405"),
		"payAuthCode": a.AuthCode,
		"price":       strconv.FormatInt(a.Price, 10),
		"cardCode":    a.CardCode,
		"cardName":    a.CardName,
		"cardQuota":   a.Quota,
		"checkFlg":    "0",
		"prtcCode":    "1",
	}
}

// v1Issue is key-in issuance (type=Auth).
func (s *Simulator) v1Issue(w http.ResponseWriter, r *http.Request, f url.Values) {
	errs := blanks(f.Get, "paymethod", "timestamp", "clientIp", "mid", "moid", "price", "cardNumber", "cardExpire", "hashData")
	if f.Get("paymethod") != "" && f.Get("paymethod") != "Card" {
		errs = append(errs, fieldError{"paymethod", msgFormat})
	}
	if len(errs) > 0 {
		writeJSON(w, paramReply(errs))
		return
	}
	if l := tooLong(f.Get, apiLimits); l != nil {
		writeJSON(w, lengthReply(l))
		return
	}
	acct, bad := s.checkCommon(f.Get("mid"), f.Get("timestamp"))
	if bad != nil {
		writeJSON(w, bad)
		return
	}
	want := sha512Of(acct.APIKey, "Auth", f.Get("paymethod"), f.Get("timestamp"), f.Get("clientIp"), f.Get("mid"),
		f.Get("moid"), f.Get("price"), f.Get("cardNumber"))
	if !hashOK(f.Get("hashData"), want) {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim auth: hash mismatch", slog.String("mid", acct.MID), slog.String("moid", f.Get("moid")))
		writeJSON(w, failReply(refHash))
		return
	}
	plain := map[string]string{}
	for _, name := range []string{"cardNumber", "cardExpire", "regNo", "cardPw"} {
		enc := f.Get(name)
		if enc == "" {
			continue
		}
		v, err := aesDecrypt(enc, acct.APIKey, acct.APIIV)
		if err != nil {
			writeJSON(w, failReply(refDecrypt))
			return
		}
		plain[name] = v
	}
	if plain["regNo"] == "" {
		// A foreign card (no KFTC code) has no Korean birth date to check;
		// every other card needs regNo.
		if is, ok := lookupBIN(plain["cardNumber"]); !ok || is.KFTC != "" {
			writeJSON(w, paramReply([]fieldError{{"regNo", msgBlank}}))
			return
		}
	}
	if fe := checkCardFields(plain["cardNumber"], plain["cardExpire"], plain["regNo"], plain["cardPw"]); len(fe) > 0 {
		writeJSON(w, paramReply(fe))
		return
	}
	now := s.cfg.Now()
	prof, ref := evaluateCard(plain["cardNumber"], plain["cardExpire"], plain["cardPw"], now)
	if ref != nil {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim auth: refused", slog.String("mid", acct.MID), slog.String("moid", f.Get("moid")), slog.String("code", ref.Code))
		writeJSON(w, failReply(ref))
		return
	}
	k := s.issueKey(acct.MID, f.Get("moid"), "api", newTID("INIAPIAUTH", acct.MID, now), prof, now)
	t := now.In(kst)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim auth: issued", slog.String("mid", acct.MID), slog.String("moid", f.Get("moid")), slog.String("tid", k.TID))
	s.reply(w, r, map[string]any{
		"resultCode": codeOK,
		"resultMsg":  msgIssueOK,
		"tid":        k.TID,
		"billKey":    k.BillKey,
		"cardCode":   k.CardCode,
		"cardName":   k.CardName,
		"cardNumber": k.CardNumber,
		"authDate":   t.Format("20060102"),
		"authTime":   t.Format("150405"),
	})
}

// checkCardFields validates decrypted key-in fields: card number 13–19
// digits, expiry YYMM, regNo empty (checked by the caller: foreign cards
// only) or the 6-digit birth date YYMMDD or the 10-digit business number (an
// 8-digit YYYYMMDD is refused, as billkey's reading of the sources says INICIS
// would: docs/inicis.md), cardPw empty or 2 digits.
func checkCardFields(number, expiry, regNo, pwd string) []fieldError {
	var errs []fieldError
	if !isDigits(number, 19) || len(number) < 13 {
		errs = append(errs, fieldError{"cardNumber", msgFormat})
	}
	if !isDigits(expiry, 4) || len(expiry) != 4 {
		errs = append(errs, fieldError{"cardExpire", msgFormat})
	}
	if regNo != "" && (!isDigits(regNo, 10) || (len(regNo) != 6 && len(regNo) != 10)) {
		errs = append(errs, fieldError{"regNo", msgFormat})
	}
	if pwd != "" && (!isDigits(pwd, 2) || len(pwd) != 2) {
		errs = append(errs, fieldError{"cardPw", msgFormat})
	}
	return errs
}

// issueKey stores a new billing key and returns it.
func (s *Simulator) issueKey(mid, orderID, source, tid string, p cardProfile, now time.Time) Key {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.issueKey(mid, orderID, source, tid, p, now)
}

// issueKey stores a new billing key; the caller holds mu.
func (st *state) issueKey(mid, orderID, source, tid string, p cardProfile, now time.Time) Key {
	k := &keyRecord{
		Key: Key{
			MID: mid, BillKey: newBillKey(), TID: tid, OrderID: orderID, Source: source,
			CardCode: p.Issuer.Code, CardKFTC: p.Issuer.KFTC, CardName: p.Issuer.Name, CardNumber: p.Masked,
			Behavior: p.Behavior, IssuedAt: now,
		},
		profile: p,
	}
	st.addKey(k)
	return k.Key
}
