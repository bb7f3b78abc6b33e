package gateway

import (
	"regexp"
)

// DeclineClass is how dunning treats a declined renewal.
type DeclineClass string

// Decline classes.
const (
	// DeclineSoft may succeed later (insufficient funds, limit exceeded,
	// temporary errors): retried on the subscription's policy.
	DeclineSoft DeclineClass = "soft"
	// DeclineHard cannot succeed with this card (lost or stolen, expired,
	// closed account, a billing key INICIS no longer knows): retries stop at
	// once and the subscription waits for a new card.
	DeclineHard DeclineClass = "hard"
)

// declineCodes classifies INICIS detail codes of a declined billing charge
// (INIAPI "billing"; the payment's fail_reason is "[01] [code][message]").
// Sources: 1254 잔액부족 and 1195 빌링 미등록 거래 and 1113 were observed from
// INICIS's billing API; 1251 한도초과 and 1205 유효기간 경과 are the codes
// billkey's simulator uses for those refusals (docs/inicis-simulator.md:
// chosen, INICIS's exact codes for them are not published); 1103 is the
// issuer refusal. The card companies' other final reasons (분실, 도난,
// 거래정지, 해지 cards), which INICIS relays in its message, are matched by
// declineWords. A code not in the table and a message matching nothing are
// soft: retries are bounded by the policy, and an unknown cause is more
// often temporary than final.
var declineCodes = map[string]DeclineClass{
	"1251": DeclineSoft, // 한도초과 (limit exceeded)
	"1254": DeclineSoft, // 잔액부족 (insufficient funds)
	"1205": DeclineHard, // 유효기간 경과 (expired card)
	"1195": DeclineHard, // 빌링 미등록 거래 (unknown billing key)
	"1113": DeclineHard, // 요청금액 0원 이하 (the plan's amount is wrong; retrying cannot help)
	"1103": DeclineHard, // 카드사 승인거절 (issuer refusal)
}

// declineWords classifies by the refusal message when the code is not in
// the table: card companies' reasons relayed in the message.
var declineWords = []struct {
	re    *regexp.Regexp
	class DeclineClass
}{
	{regexp.MustCompile(`분실|도난|거래정지|해지|사고|유효기간|등록되지 않은 구매자|미등록`), DeclineHard},
	{regexp.MustCompile(`한도|잔액|일시|timeout|시간초과|연결`), DeclineSoft},
}

// resultCode finds the bracketed codes of a fail_reason: INIAPI's billing
// refusal reads "[01] [1205][실시간빌링실패|유효기간 경과]" (resultCode 01,
// then the card company's detail code).
var resultCode = regexp.MustCompile(`\[([0-9A-Z]{4})\]`)

// ClassifyDecline returns the class of a declined charge's fail_reason.
func ClassifyDecline(failReason string) DeclineClass {
	for _, m := range resultCode.FindAllStringSubmatch(failReason, -1) {
		if c, ok := declineCodes[m[1]]; ok {
			return c
		}
	}
	for _, w := range declineWords {
		if w.re.MatchString(failReason) {
			return w.class
		}
	}
	return DeclineSoft
}
