package inicissim

// Result codes and messages. Those marked "observed" are INICIS's own, as
// public integrations and INICIS's samples show them; every other one is a simulator choice for a condition INICIS has not
// documented publicly, kept here in one place.

// refusal is a refusal by "INICIS" or "the card company": a short code and
// its text. INIAPI v1 replies resultCode "01" and resultMsg "[Code]Text";
// the StdPay window posts resultCode Code and resultMsg Text; the INILite
// window posts resultcode "01" and resultmsg "[Code]Text".
type refusal struct {
	Code string
	Text string
}

// apiMsg is the INIAPI spelling "[Code]Text".
func (r *refusal) apiMsg() string { return "[" + r.Code + "]" + r.Text }

const (
	codeOK        = "00"      // INIAPI success (observed)
	codeFail      = "01"      // INIAPI business failure (observed)
	codeParam     = "ER0102"  // validation error (observed)
	codeLength    = "ERR101"  // length error, e.g. timestamp (observed)
	codeStdOK     = "0000"    // StdPay success (observed)
	codeNotFound  = "R404"    // inquiry: no such transaction (choice; inicis.InquiryNotFoundCode)
	codeInquiryOK = "SUCCESS" // inquiry success (integrators' code; inicis.InquiryOK)
	stdCancelCode = "V801"    // StdPay: buyer closed the window (choice; inicis.StdPayUserCancelCode)
	liteOK        = "00"      // INILite legacy success (observed)
	liteCancel    = "99"      // INILite: buyer cancelled (choice; inicis.LiteUserCancelCode)

	msgParam        = "파라미터 값이 잘못 되었습니다." // observed
	msgBlank        = "공백일 수 없습니다"        // observed
	msgFormat       = "형식이 올바르지 않습니다"
	msgBillingOK    = "[신용카드|빌링이 정상적으로 이루어졌습니다.]" // observed
	msgIssueOK      = "[신용카드|빌링키 발급이 정상적으로 이루어졌습니다.]"
	msgRefundOK     = "정상처리되었습니다."
	msgAlreadyDone  = "기 취소 거래" // observed
	detailAlready   = "500626"  // observed (also 512626)
	msgStdOK        = "정상처리되었습니다."
	msgLiteOK       = "[신용카드|본인인증이 성공하였습니다.]" // observed
	msgStdCancel    = "사용자가 결제를 취소하였습니다."
	msgLiteCancel   = "[신용카드|사용자가 결제를 취소하였습니다.]"
	msgLengthTS     = "timestamp 길이 오류 (YYYYMMDDhhmmss 14자리)"
	msgInquiryEmpty = "[조회실패|거래내역이 존재하지 않습니다.]"
)

var (
	// INIAPI request-level refusals (choices).
	refUnknownMID  = &refusal{"9001", "[가맹점오류|등록되지 않은 상점아이디(mid)입니다.]"}
	refHash        = &refusal{"9002", "[위변조오류|hashData가 일치하지 않습니다.]"}
	refDecrypt     = &refusal{"9003", "[암호화오류|암호화 데이터를 복호화할 수 없습니다.]"}
	refSkew        = &refusal{"9004", "[요청시간오류|timestamp가 허용 범위를 벗어났습니다.]"}
	refNoLiteKey   = &refusal{"9005", "[가맹점오류|INILite 계약이 없는 상점아이디입니다.]"}
	refBadType     = &refusal{"9006", "[요청오류|지원하지 않는 type입니다.]"}
	refPriceZero   = &refusal{"1113", "[실시간빌링실패|요청금액 0원 이하]"}     // observed
	refUnknownKey  = &refusal{"1195", "[실시간빌링실패|빌링 미등록 거래]"}      // observed
	refDuplicate   = &refusal{"1196", "[실시간빌링실패|중복된 주문번호(moid)]"} // choice: INICIS's code is unpublished
	refNoTx        = &refusal{"9101", "[취소실패|원거래가 존재하지 않습니다.]"}
	refOverRefund  = &refusal{"9102", "[취소실패|취소요청금액이 취소가능금액을 초과합니다.]"}
	refConfirm     = &refusal{"9103", "[취소실패|취소 후 잔액(confirmPrice)이 일치하지 않습니다.]"}
	refBadRefundTy = &refusal{"9104", "[취소실패|부분취소는 partialRefund로 요청해야 합니다.]"}

	// Card refusals at issuance (choices; F112's text follows INICIS's style).
	refLuhn       = &refusal{"F111", "유효하지않은 카드번호를 입력하셨습니다. (checksum 오류)"}
	refUnknownBIN = &refusal{"F112", "유효하지않은 카드번호를 입력하셨습니다. (card_bin 없음)"}
	refExpiry     = &refusal{"F113", "유효기간이 경과되었거나 잘못 입력하셨습니다."}
	refPwd        = &refusal{"F114", "카드 비밀번호가 일치하지 않습니다."}
	refIssuer     = &refusal{"1103", "[빌링키발급실패|카드사 승인거절]"}

	// Charge declines (1254 observed, the rest choices).
	refLimit       = &refusal{"1251", "[실시간빌링실패|한도초과]"}
	refBalance     = &refusal{"1254", "[실시간빌링실패|잔액부족]"}
	refExpiredCard = &refusal{"1205", "[실시간빌링실패|유효기간 경과]"}

	// StdPay window and approval (V016 and V023 observed, the rest choices).
	refStdParam     = &refusal{"V023", "파라미터의 데이터 설정이 잘못되었습니다."}
	refStdSignKey   = &refusal{"V016", "signkey가 정확하지 않습니다.(키 확인 필요)"}
	refStdSignature = &refusal{"V017", "signature 검증에 실패했습니다.(위변조 의심)"}
	refStdToken     = &refusal{"V701", "인증 정보(authToken)가 유효하지 않거나 만료되었습니다."}
)
