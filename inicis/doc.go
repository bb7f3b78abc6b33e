// Package inicis is billkey's KG INICIS provider: the server-to-server INIAPI
// calls behind billkey.PG, and the browser window protocols behind
// billkey.WindowPG (INIStdPay, verified server to server). Factory is its
// entry in billkey serve's PG registry, under the names html5_inicis and
// inicis; a channel's opaque credentials are the JSON of Credentials. The
// conformance suite (package pgtest) runs against it and the simulator in
// pgtest_test.go.
//
// # What it speaks
//
//   - IssueBillingKey: INIAPI v1 POST /api/v1/billing type=Auth (key-in
//     issuance; card fields AES-128-CBC "[ENC]", see EncryptField).
//   - Charge: INIAPI v1 POST /api/v1/billing type=Billing.
//   - Refund: INIAPI v1 POST /api/v1/refund type=Refund or PartialRefund
//     (price = amount now, confirmPrice = RefundRequest.Remaining).
//   - Inquire: INIAPI v2 POST /v2/pg/inquiry by oid.
//   - Billing window (billkey uses it on PC and phones): INIStdPay with
//     acceptmethod BILLAUTH(Card): StdPayForm, ParseStdPayReturn,
//     CheckStdPayURLs, ApproveStdPay (authUrl), NetCancel.
//   - Legacy INILite mobile window (inibill_card.jsp): LiteForm,
//     ParseLiteReturn, CompleteLite. Its result is unverifiable (below);
//     billkey's gateway does not use it.
//
// Every hash follows INICIS's recipe as documented on its builder (crypto.go);
// the tests check each recipe
// against hand-built concatenations and the published test vectors. All
// INIAPI timestamps are YYYYMMDDhhmmss in KST, StdPay timestamps epoch
// milliseconds; amounts are integer KRW; everything is UTF-8.
//
// Live channels (PGChannel.Live) use Config.Live, normally
// ProductionEndpoints; test channels use Config.Test, normally
// SimulatorEndpoints of an inicissim.Simulator.
//
// # Errors
//
// Every failure that reaches INICIS is a *billkey.Error:
//
//   - A refusal (resultCode not a success code) is EPG with Message
//     "[resultCode] resultMsg", exactly as INICIS sent both, e.g.
//     "[01] [1254][실시간빌링실패|잔액부족]". The *ResultError inside carries
//     the code, message, detailResultCode and, for declined charges, the tid.
//   - A request that never left (connection refused, DNS, TLS, a deadline
//     before the request was written — detected with httptrace) is EPG
//     wrapping ErrNotSent: nothing was charged.
//   - A request that was written but got no usable reply (timeout, reset,
//     HTTP 500, 502, 504 or 3xx without an INICIS JSON body, an unparsable
//     body, a success without tid, or an approved price different from the
//     one asked) is EUNCERTAIN wrapping ErrNoReply: reconcile with Inquire,
//     never resend. Choice: those 5xx count as uncertain because a gateway
//     error after the request was forwarded does not prove INICIS did
//     nothing (504 says an upstream timed out).
//   - HTTP 503 without an INICIS body is EPG wrapping ErrRefused: the server
//     (or its load balancer) declined to process the request, so nothing
//     was approved and the order may fail at once.
//   - An HTTP 4xx without an INICIS body is EPG (refused before processing).
//   - Bad card data given to IssueBillingKey is EREJECTED; a channel without
//     usable credentials is a plain error.
//
// Refund maps "기 취소 거래" (and detailResultCode 500626 / 512626) to
// RefundResult.AlreadyDone, not an error.
//
// # Choices where INICIS's documents are silent or conflicting
//
//   - Card companies: INICIS 2-digit codes become i'mport's KFTC 3-digit
//     card_code and Korean card_name (LookupCardCompany). 외환 (01) maps to
//     374 and 한미 (15) to 370; foreign brands and e-money have no KFTC
//     code, so CardCode is "" and CardName is e.g. "해외비자". Codes beyond
//     the documented set come from INICIS's table as integrators reproduce it and are
//     unverified; an unknown code keeps the cardName INICIS sent.
//   - Key-in issuance: cardExpire is YYMM; regNo is the birth date as
//     YYMMDD (an 8-digit date loses its century) or a 10-digit business
//     number (RegNo; the most direct evidence is i'mport's own 6-digit
//     birth parameter for this relay); cardPw only when given; price 0;
//     goodName defaults to "빌링키 발급". The reply is read for billKey (any
//     casing), cardCode, tid and authDate/authTime (payDate/payTime also
//     accepted); the masked number is computed locally from the card number.
//   - Field limits (limits.go): goodName 40, buyerName 30, buyerEmail 60,
//     buyerTel 40 bytes, moid/orderId 64; on the PC window oid 40 and
//     buyertel 20 (INIStdPay.js checks them). Text is cut on a character
//     boundary in UTF-8 bytes (never longer than the EUC-KR count), an
//     over-long e-mail is replaced rather than cut, an over-long order id
//     is refused. The PC window is always payViewType=overlay.
//   - Charges send authentification=00, quotaInterest=0, cardQuota as two
//     digits ("00" for 0 or 1 month), currency WON (USD when asked), tax only
//     when VatAmount is set and taxFree only when positive (those are
//     contract features). The reply's cardQuota or payAuthQuota is accepted.
//   - RefundResult.TID is the reply's tid when it differs from the original
//     (a partial cancel's own tid), else "". CancelledAt is a partial
//     cancel's prtcDate/prtcTime, a full cancel's cancelDate/cancelTime.
//   - Inquiry: success is resultCode "SUCCESS" (as integrators read it; "00"
//     is accepted too); transactionStatus APPROVAL / PART_CANCEL → approved,
//     CANCEL → cancelled, FAIL → declined. The approval comes from
//     approvedDate/approvedTime, price, tid and the nested cardInfo
//     (approvedNumber, and card fields when present); a reply about another
//     oid or MID is EUNCERTAIN. "Not found" is recognised only by
//     Config.InquiryNotFoundCodes (default InquiryNotFoundCode "R404", the
//     simulator's code; INICIS's own is unpublished). Any other well-formed
//     refusal is billkey.InquiryNoApproval with Reason "[code] message": the
//     reconciler counts it as not found only long after any call for the
//     order could have ended, never on a first answer.
//   - Receipt URLs: INICIS's well-known card receipt page for live channels
//     (not in INICIS's API documents), the simulator's /receipt page for test channels.
//
// # INIStdPay (PC window)
//
// StdPayForm returns the form fields and the URL of INIStdPay.js; the page
// calls INIStdPay.pay(formId). STEP 2 arrives at returnUrl; ApproveStdPay
// checks the post (success, MID, order id), refuses authUrl/netCancelUrl that
// are not exactly origin+"/api/payAuth" / origin+"/api/netCancel" of the
// posted idc_name on the channel's endpoints (SSRF guard), posts the approval
// with format=JSON and charset=UTF-8, and verifies the reply's resultCode
// "0000", authSignature (recipe chosen by the last digit of the timestamp it
// sent), mid, MOID and CARD_BillKey (any casing). On a lost reply or a failed
// check it net-cancels at once; a successful net cancel turns the result into
// a plain EPG failure, a failed one leaves EUNCERTAIN.
//
// Choice: when the buyer closes the window INICIS loads closeUrl. Without a
// closeUrl the simulator posts resultCode StdPayUserCancelCode ("V801") to
// returnUrl; StdPayReturn.Cancelled reports it.
//
// # INILite (mobile window)
//
// Choice: the legacy INILite window (https://inilite.inicis.com/inibill/
// inibill_card.jsp, authtype D, hashdata = SHA256(mid + orderid + timestamp
// + INILiteKey)) rather than the newer inilitepay /pay/card/billing: the
// legacy result post is documented (resultcode "00", plain 40-hex billkey,
// cardcd, masked cardno), while the newer one's success value and billkey
// encryption are unknown. The legacy result post carries no signature, so
// CompleteLite can only check the MID, the order id and the billkey's shape;
// the post is as trustworthy as the browser that delivered it: anyone can
// post resultcode 00 with the MID, the order id and a made-up 40-hex key.
// No INICIS call confirms a billkey without charging it, so billkey's
// payment window never stores an INILite result; it opens INIStdPay on
// phones too, whose authToken is redeemed server to server. Choice: a
// buyer's cancel is resultcode LiteUserCancelCode ("99").
//
// # Secrets
//
// Nothing here logs billing keys, card numbers, birth dates, PIN digits,
// authTokens or channel secrets: log lines carry the MID, order id, tid and
// INICIS's result code and message only.
package inicis
