package gateway

import "testing"

func TestClassifyDecline(t *testing.T) {
	for reason, want := range map[string]DeclineClass{
		"[1251] [실시간빌링실패|한도초과]":          DeclineSoft,
		"[01] [1205][실시간빌링실패|유효기간 경과]":   DeclineHard, // INIAPI's refusal as the payment records it
		"[01] [1254][실시간빌링실패|잔액부족]":      DeclineSoft,
		"[01] [1195][code only]":         DeclineHard,
		"[1254] [실시간빌링실패|잔액부족]":          DeclineSoft,
		"[1205] [실시간빌링실패|유효기간 경과]":       DeclineHard,
		"[1195] [실시간빌링실패|빌링 미등록 거래]":     DeclineHard,
		"[9999] 분실 신고된 카드입니다":            DeclineHard,
		"[9998] 도난 카드":                   DeclineHard,
		"[9997] 해지된 카드입니다":               DeclineHard,
		"등록되지 않은 구매자입니다.":                DeclineHard, // the billing key was deleted
		"[9996] 일시적인 오류입니다":              DeclineSoft,
		"PG사 응답을 받지 못해 처리 결과를 알 수 없습니다.": DeclineSoft,
		"": DeclineSoft,
	} {
		if got := ClassifyDecline(reason); got != want {
			t.Errorf("%q: %s, want %s", reason, got, want)
		}
	}
}
