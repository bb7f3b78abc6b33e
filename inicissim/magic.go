package inicissim

import (
	"strconv"
	"time"
)

// Behavior is how a billing key behaves when charged.
type Behavior string

// Charge behaviours of magic cards.
const (
	ChargeApprove Behavior = "approve"          // approved
	ChargeLimit   Behavior = "decline_limit"    // declined [1251] 한도초과
	ChargeBalance Behavior = "decline_balance"  // declined [1254] 잔액부족
	ChargeExpired Behavior = "decline_expired"  // declined [1205] 유효기간 경과
	ChargeHang    Behavior = "approve_no_reply" // approved, reply never sent
)

// Issuance outcomes of magic cards (MagicCard.Issue).
const (
	issueOK           = "ok"
	issueRefuseIssuer = "refused_issuer" // [1103] 카드사 승인거절
	issueRefusePwd    = "refused_pwd"    // [F114] 카드 비밀번호 불일치
)

// MagicCard is a card number with a fixed behaviour.
type MagicCard struct {
	Number      string   `json:"number"`
	Issue       string   `json:"issue"`  // "ok", "refused_issuer" or "refused_pwd"
	Charge      Behavior `json:"charge"` // what happens to charges
	Description string   `json:"description"`
}

// MagicCards are the simulator's special card numbers (all Luhn-valid, BIN
// 400000 or 424242). Any other Luhn-valid number with a BIN of BINTable is
// issued and approved normally; see also the rules in the package doc.
var MagicCards = []MagicCard{
	{"4242424242424242", issueOK, ChargeApprove, "발급 성공, 결제 승인"},
	{"4000000000000002", issueRefuseIssuer, "", "발급 거절: [1103] 카드사 승인거절"},
	{"4000000000000127", issueRefusePwd, "", "발급 거절: [F114] 카드 비밀번호 불일치"},
	{"4000000000000341", issueOK, ChargeLimit, "발급 성공, 모든 결제 거절: [1251] 한도초과"},
	{"4000000000009995", issueOK, ChargeBalance, "발급 성공, 모든 결제 거절: [1254] 잔액부족"},
	{"4000000000000069", issueOK, ChargeExpired, "발급 성공, 모든 결제 거절: [1205] 유효기간 경과"},
	{"4000000000000119", issueOK, ChargeHang, "발급 성공, 결제는 승인되지만 응답이 오지 않음 (결과 불명)"},
}

// cardProfile is what the simulator keeps of a card after issuance: never
// the full number.
type cardProfile struct {
	Issuer   Issuer
	Masked   string
	Behavior Behavior
	Expiry   string // YYMM
}

// evaluateCard decides issuance for a card number (digits), expiry (YYMM) and
// the 2 PIN digits ("" when not asked).
func evaluateCard(number, expiry, pwd string, now time.Time) (cardProfile, *refusal) {
	if !luhnValid(number) || len(number) < 13 || len(number) > 19 {
		return cardProfile{}, refLuhn
	}
	is, ok := lookupBIN(number)
	if !ok {
		return cardProfile{}, refUnknownBIN
	}
	if expired(expiry, now) {
		return cardProfile{}, refExpiry
	}
	p := cardProfile{Issuer: is, Masked: maskCard(number), Behavior: ChargeApprove, Expiry: expiry}
	for _, m := range MagicCards {
		if m.Number != number {
			continue
		}
		switch m.Issue {
		case issueRefuseIssuer:
			return cardProfile{}, refIssuer
		case issueRefusePwd:
			return cardProfile{}, refPwd
		}
		p.Behavior = m.Charge
	}
	return p, nil
}

// expired reports whether YYMM is malformed or before the current month (KST).
// A card is valid through the end of its expiry month.
func expired(yymm string, now time.Time) bool {
	if len(yymm) != 4 {
		return true
	}
	yy, err1 := strconv.Atoi(yymm[:2])
	mm, err2 := strconv.Atoi(yymm[2:])
	if err1 != nil || err2 != nil || mm < 1 || mm > 12 {
		return true
	}
	n := now.In(kst)
	cur := n.Year()*12 + int(n.Month()) - 1
	exp := (2000+yy)*12 + mm - 1
	return exp < cur
}

// chargeRefusal is the decline of a key's behaviour, nil to approve. A card
// whose expiry month has passed is declined as expired.
func chargeRefusal(p cardProfile, now time.Time) *refusal {
	if expired(p.Expiry, now) {
		return refExpiredCard
	}
	switch p.Behavior {
	case ChargeLimit:
		return refLimit
	case ChargeBalance:
		return refBalance
	case ChargeExpired:
		return refExpiredCard
	}
	return nil
}
