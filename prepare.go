package billkey

import "time"

// Prepare is a payment pre-registration: the amount a merchant_uid must be
// paid with (POST /payments/prepare). Currency "" means the currency is not
// checked.
type Prepare struct {
	MerchantID  int64
	MerchantUID string
	Amount      int64
	Currency    string
	Created     time.Time
	Updated     time.Time
}

// Pre-registration messages. NoPrepareMessage is i'mport's recorded text
// for an unknown merchant_uid; PrepareExistsMessage is billkey's own (i'mport
// does not publish the text of a second POST for one merchant_uid).
const (
	NoPrepareMessage     = "사전등록된 결제정보가 존재하지 않습니다."
	PrepareExistsMessage = "이미 사전등록된 merchant_uid입니다. 금액을 바꾸려면 PUT /payments/prepare를 사용해주세요."
)
