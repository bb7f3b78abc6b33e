package inicis_test

import (
	"strings"
	"testing"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

// TestRefusalSentences: every refusal a buyer can cause reads as a plain
// sentence followed by INICIS's code and message, the same whether INICIS
// sent the code itself (PC window) or inside "01" (mobile window, INIAPI).
func TestRefusalSentences(t *testing.T) {
	cases := []struct {
		code, msg, want, wantCode string
	}{
		{"01", "[1251][실시간빌링실패|한도초과]", "카드 한도가 초과되었습니다.", "1251"},
		{"01", "[1254][실시간빌링실패|잔액부족]", "잔액이 부족합니다.", "1254"},
		{"01", "[1205][실시간빌링실패|유효기간 경과]", "카드 유효기간이 지났거나", "1205"},
		{"F113", "유효기간이 경과되었거나 잘못 입력하셨습니다.", "카드 유효기간이 지났거나", "F113"},
		{"F111", "유효하지않은 카드번호를 입력하셨습니다. (checksum 오류)", "카드 번호가 올바르지 않습니다.", "F111"},
		{"01", "[F111]유효하지않은 카드번호를 입력하셨습니다. (checksum 오류)", "카드 번호가 올바르지 않습니다.", "F111"},
		{"F114", "카드 비밀번호가 일치하지 않습니다.", "카드 비밀번호 앞 2자리가", "F114"},
		{"01", "[1103][빌링키발급실패|카드사 승인거절]", "카드사에서 승인을 거절했습니다.", "1103"},
		// Live codes not in the table are matched by INICIS's words.
		{"01", "[1299][실시간빌링실패|분실카드]", "분실 또는 도난 신고된 카드입니다.", "1299"},
		{"01", "[1298][실시간빌링실패|도난카드(거래정지)]", "분실 또는 도난 신고된 카드입니다.", "1298"},
		{"01", "[1297][실시간빌링실패|거래정지카드]", "거래가 정지된 카드입니다.", "1297"},
		{"01", "[1296][실시간빌링실패|한도 부족]", "카드 한도가 초과되었습니다.", "1296"},
		{"01", "[1195][실시간빌링실패|빌링 미등록 거래]", "등록된 카드 정보를 찾을 수 없습니다.", "1195"},
		{"V016", "signkey가 정확하지 않습니다.(키 확인 필요)", "상점의 결제 설정 문제로", "V016"},
		{"X999", "알 수 없는 오류", "카드사 또는 PG사가 결제를 거절했습니다.", "X999"},
	}
	for _, c := range cases {
		re := &inicis.ResultError{Op: "billing", Code: c.code, Message: c.msg}
		got := inicis.DescribeRefusal(re.Op, re.Code, re.Message)
		code, raw := re.Reason()
		if !strings.HasPrefix(got, c.want) || code != c.wantCode || !strings.HasSuffix(got, " (["+code+"] "+raw+")") {
			t.Errorf("%s %s: %q (code %s), want %q... ([%s] ...)", c.code, c.msg, got, code, c.want, c.wantCode)
		}
	}
	// PC (StdPay posts F111) and mobile (INILite posts 01 + [F111]) agree.
	pc, _ := inicis.ParseStdPayReturn(map[string][]string{"resultCode": {"F111"}, "resultMsg": {"유효하지않은 카드번호를 입력하셨습니다. (checksum 오류)"}})
	mobile, _ := inicis.ParseLiteReturn(map[string][]string{"resultcode": {"01"}, "resultmsg": {"[F111]유효하지않은 카드번호를 입력하셨습니다. (checksum 오류)"}})
	if pc == nil || mobile == nil || billkey.ErrorMessage(pc.Err()) != billkey.ErrorMessage(mobile.Err()) {
		t.Fatalf("PC %q, mobile %q", billkey.ErrorMessage(pc.Err()), billkey.ErrorMessage(mobile.Err()))
	}
	if got := inicis.DescribeRefusal("refund", "01", "[9999][취소실패|알 수 없음]"); !strings.HasPrefix(got, "PG사가 취소 요청을 거절했습니다.") {
		t.Errorf("refund fallback: %q", got)
	}
}
