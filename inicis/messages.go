package inicis

import (
	"regexp"
	"strings"
)

// Buyer-facing sentences for INICIS refusals.
//
// INICIS answers a refusal with a terse code and message meant for the
// merchant ("[1251][실시간빌링실패|한도초과]"). billkey shows the buyer a plain
// Korean sentence saying what happened and what to do, followed by the raw
// code and message in parentheses for the merchant, in one format wherever
// the refusal surfaces (the PC and mobile windows' error_msg, the API's
// message and a payment's fail_reason):
//
//	카드 한도가 초과되었습니다. 다른 카드로 결제하시거나 카드사에 문의해 주세요. ([1251] [실시간빌링실패|한도초과])
//
// The code in brackets is also the window's error_code. INILite and
// INIAPI v1 wrap a card refusal in resultCode "01" with the real code at the
// head of the message ("[F111]유효하지않은 카드번호…"); that inner code is the
// one reported, so a refusal reads the same on PC (StdPay posts the code
// itself) and on mobile.
//
// Sources of the codes: INICIS's observed replies — 1113 (amount 0 or
// less), 1195 (billing key not registered), 1254 (insufficient balance),
// ER0102 (parameter validation), ERR101 (length), V016 (wrong signKey), V023
// (bad window parameters), "기 취소 거래" (already cancelled) — collected with
// their public sources in docs/inicis.md; INICIS's message convention
// "[category|text]", optionally after "[4-digit code]", for card-network
// declines. The other codes are the simulator's choices for conditions INICIS
// has not documented publicly (inicissim/codes.go). Since real INICIS codes
// for a condition are not all public, a refusal is matched by code first and
// then by the words INICIS puts in its message (한도, 잔액, 분실, 도난, 정지,
// 유효기간, 비밀번호, 카드번호), so a live decline with an unlisted code still
// gets the right sentence.

// Buyer sentences, one per kind of refusal.
const (
	sentenceLimit    = "카드 한도가 초과되었습니다. 다른 카드로 결제하시거나 카드사에 문의해 주세요."
	sentenceBalance  = "잔액이 부족합니다. 잔액을 확인하시거나 다른 카드로 결제해 주세요."
	sentenceExpiry   = "카드 유효기간이 지났거나 잘못 입력되었습니다. 유효기간을 확인해 주세요."
	sentenceNumber   = "카드 번호가 올바르지 않습니다. 카드 번호를 다시 확인해 주세요."
	sentencePassword = "카드 비밀번호 앞 2자리가 일치하지 않습니다. 다시 입력해 주세요."
	sentenceLost     = "분실 또는 도난 신고된 카드입니다. 카드사에 문의해 주세요."
	sentenceStopped  = "거래가 정지된 카드입니다. 카드사에 문의해 주세요."
	sentenceIssuer   = "카드사에서 승인을 거절했습니다. 다른 카드로 결제하시거나 카드사에 문의해 주세요."
	sentenceAmount   = "결제 금액이 올바르지 않습니다. 상점에 문의해 주세요."
	sentenceNoKey    = "등록된 카드 정보를 찾을 수 없습니다. 카드를 다시 등록해 주세요."
	sentenceDupOrder = "이미 처리된 주문번호입니다. 상점에 문의해 주세요."
	sentenceMerchant = "상점의 결제 설정 문제로 결제를 처리하지 못했습니다. 상점에 문의해 주세요."
	sentenceAuth     = "결제 인증 시간이 지났거나 인증 정보가 올바르지 않습니다. 다시 시도해 주세요."
	sentenceRefund   = "PG사가 취소 요청을 거절했습니다."
	sentenceOver     = "취소 요청 금액이 취소 가능 금액을 초과합니다."
	sentenceNoTx     = "취소할 원거래를 PG사에서 찾을 수 없습니다."
	sentenceCancel   = "결제를 취소하셨습니다."
	sentenceOther    = "카드사 또는 PG사가 결제를 거절했습니다. 다른 카드로 결제하시거나 상점에 문의해 주세요."
)

// refusalSentences maps a result code to its sentence.
var refusalSentences = map[string]string{
	"1251":   sentenceLimit,    // 한도초과 (simulator choice)
	"1254":   sentenceBalance,  // 잔액부족 (observed)
	"1205":   sentenceExpiry,   // 유효기간 경과 (simulator choice)
	"F113":   sentenceExpiry,   // expiry at issuance (simulator choice)
	"F111":   sentenceNumber,   // checksum (simulator choice)
	"F112":   sentenceNumber,   // unknown BIN (simulator choice)
	"F114":   sentencePassword, // PIN digits (simulator choice)
	"1103":   sentenceIssuer,   // 카드사 승인거절 (simulator choice)
	"1113":   sentenceAmount,   // 요청금액 0원 이하 (observed)
	"1195":   sentenceNoKey,    // 빌링 미등록 거래 (observed)
	"1196":   sentenceDupOrder, // duplicate moid (simulator choice)
	"ER0102": sentenceMerchant,
	"ERR101": sentenceMerchant,
	"V016":   sentenceMerchant,
	"V017":   sentenceMerchant,
	"V023":   sentenceMerchant,
	"9001":   sentenceMerchant,
	"9002":   sentenceMerchant,
	"9003":   sentenceMerchant,
	"9004":   sentenceMerchant,
	"9005":   sentenceMerchant,
	"9006":   sentenceMerchant,
	"V701":   sentenceAuth,
	"9101":   sentenceNoTx,
	"9102":   sentenceOver,
	"9103":   sentenceOver,
	"9104":   sentenceRefund,
	"V801":   sentenceCancel, // buyer closed the StdPay window (simulator choice; inicis.StdPayUserCancelCode)
}

// refusalWords match a message when its code is not in refusalSentences,
// in order (분실/도난 before 정지: a lost card is often also "거래정지").
var refusalWords = []struct {
	words    []string
	sentence string
}{
	{[]string{"분실", "도난"}, sentenceLost},
	{[]string{"한도"}, sentenceLimit},
	{[]string{"잔액"}, sentenceBalance},
	{[]string{"유효기간"}, sentenceExpiry},
	{[]string{"비밀번호"}, sentencePassword},
	{[]string{"카드번호", "카드 번호"}, sentenceNumber},
	{[]string{"정지"}, sentenceStopped},
	{[]string{"승인거절", "승인 거절"}, sentenceIssuer},
}

// innerCode is the code INICIS puts at the head of a message ("[1254]...").
var innerCode = regexp.MustCompile(`^\[([0-9A-Z]{3,8})\]\s*`)

// Reason returns the refusal's effective code and message: the code at the
// head of the message when INICIS wrapped it in a generic resultCode ("01"),
// else resultCode and resultMsg as sent.
func (e *ResultError) Reason() (code, msg string) { return effective(e.Code, e.Message) }

// effective unwraps "[inner]text" when code is generic ("", "01") or the
// same code.
func effective(code, msg string) (string, string) {
	if m := innerCode.FindStringSubmatch(msg); m != nil && (code == "" || code == "01" || code == m[1]) {
		return m[1], msg[len(m[0]):]
	}
	return code, msg
}

// Sentence is the buyer-facing sentence for the refusal (see the table
// above).
func (e *ResultError) Sentence() string {
	code, msg := e.Reason()
	return RefusalSentence(e.Op, code, msg)
}

// RefusalSentence is the buyer-facing sentence for an INICIS refusal with
// this code and message during op ("refund" refusals have their own
// fallback).
func RefusalSentence(op, code, msg string) string {
	if s, ok := refusalSentences[code]; ok {
		return s
	}
	for _, w := range refusalWords {
		for _, word := range w.words {
			if strings.Contains(msg, word) {
				return w.sentence
			}
		}
	}
	if op == "refund" {
		return sentenceRefund
	}
	return sentenceOther
}

// DescribeRefusal formats a refusal the one way billkey shows it:
// "sentence ([code] message)".
func DescribeRefusal(op, code, msg string) string {
	code, msg = effective(code, msg)
	return RefusalSentence(op, code, msg) + " ([" + code + "] " + msg + ")"
}
