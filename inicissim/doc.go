// Package inicissim is a stateful KG INICIS simulator that speaks INICIS's
// own wire protocols, so that billkey's inicis client — or any INICIS
// integration — can run end to end without INICIS. It is an http.Handler:
//
//	sim := inicissim.New(inicissim.Config{Prefix: "/inicis-sim"})
//	mux.Handle("/inicis-sim/", http.StripPrefix("/inicis-sim", sim))
//
// or alone with ListenAndServe (or http.Server{Handler: sim}). Every emitted
// absolute URL (authUrl, netCancelUrl, window actions, INIStdPay.js target)
// is built from the request's scheme and Host plus Config.Prefix, or from
// Config.PublicURL when set.
//
// # Endpoints
//
//	POST /api/v1/billing          INIAPI v1: type=Billing (charge) and type=Auth (key-in issuance)
//	POST /api/v1/refund           INIAPI v1: type=Refund and type=PartialRefund
//	POST /v2/pg/billing           INIAPI v2 billing (JSON)
//	POST /v2/pg/refund            INIAPI v2 full refund (a partial here is refused)
//	POST /v2/pg/partialRefund     INIAPI v2 partial refund
//	POST /v2/pg/inquiry           INIAPI v2 inquiry by tid or oid
//	GET  /stdjs/INIStdPay.js      stand-in for INIStdPay.js
//	POST /stdpay/window           PC billing window (INIStdPay STEP 1)
//	POST /stdpay/window/auth      the window's card form (posts STEP 2 to returnUrl)
//	POST /stdpay/window/cancel    the window's cancel/close button
//	POST /api/payAuth             StdPay approval (STEP 3/4), issues the billKey
//	POST /api/netCancel           StdPay net cancel (revokes a key payAuth issued)
//	POST /api/checkAck            accepted without checks
//	POST /inibill/inibill_card.jsp  legacy INILite mobile billing window
//	POST /inibill/auth, /inibill/cancel  the mobile window's card form and cancel button
//	GET  /receipt?noTid=          card receipt page
//	GET  /                        overview page (accounts without secrets, test cards, BINs)
//	GET  /_sim/ledger             test-only: the ledger as JSON (Ledger)
//	POST /_sim/reset              test-only: forget everything (Reset)
//	GET|POST|DELETE /_sim/faults  test-only: global faults (Faults JSON)
//
// # Checks
//
// Every request is verified the way INICIS would: required fields (blank →
// ER0102 "파라미터 값이 잘못 되었습니다." with errorDetails "공백일 수 없습니다"),
// 14-digit KST timestamps for INIAPI and INILite (else ERR101), 13-digit
// millisecond timestamps for StdPay, known MID, every hashData / signature /
// verification / mKey recipe, AES decryption of [ENC] fields with the MID's
// key and IV, single-use authTokens, and business rules (price > 0, known
// unrevoked billKey of the same MID, refunds within the remaining amount,
// confirmPrice = remaining - price).
//
// # Choices where INICIS's behaviour is unpublished
//
//   - Result codes INICIS does not publish are the simulator's own, all in
//     codes.go: 9001 unknown MID, 9002 hash mismatch, 9003 AES failure,
//     9004 timestamp skew (only with Config.MaxSkew), 9005 no INILite
//     contract, 9006 unknown type, 1196 duplicate moid, 9101 unknown tid,
//     9102 over-refund, 9103 confirmPrice mismatch, 9104 partial refund on
//     the full-refund path, F111/F112/F113/F114/1103 issuance refusals,
//     1251/1205 declines, V017 StdPay signature mismatch, V701 bad authToken,
//     R404 inquiry not found; observed codes (00, 01, ER0102, ERR101, 0000,
//     1113, 1195, 1254, 기 취소 거래 + 500626, V016, V023) are used as
//     observed. INIAPI refusals are resultCode "01" with resultMsg
//     "[code]text".
//   - Every INICIS-level outcome is HTTP 200 with a resultCode.
//   - A second approval with a moid already approved for the MID is refused
//     ([1196][실시간빌링실패|중복된 주문번호(moid)]); a declined moid may be
//     retried. Key-in issuance does not check moid uniqueness.
//   - Key-in issuance (type=Auth) requires cardNumber, cardExpire (YYMM) and
//     regNo (YYMMDD or 10 digits); cardPw is optional; buyer fields
//     are not required; price is ignored. Its reply carries tid
//     (INIAPIAUTH{mid}{yyyyMMddHHmmss}{6 digits}), billKey, cardCode,
//     cardName, cardNumber (masked), authDate, authTime.
//   - A full Refund after partial refunds cancels what remains. Partial
//     refund replies carry prtcDate/prtcTime (not cancelDate/cancelTime),
//     tid (the partial cancel's own), prtcTid, prtcPrice, prtcRemains,
//     prtcCnt and prtcType "1", as INICIS's refund reply table lists them.
//   - Inquiry replies in INICIS's shape (resultCode SUCCESS, approvedDate/
//     approvedTime, paymethod, availablePartCancel(Price),
//     partCancelTransInfo, cardInfo with approvedNumber and currencyCode);
//     the card fields inside cardInfo are a choice. FAIL with
//     failCode/failMsg when the order was only ever declined and resultCode
//     R404 when nothing is known are choices.
//   - Field limits: INIAPI refuses moid over 64, goodName 40, buyerName 30,
//     buyerEmail 60, buyerTel 40 UTF-8 bytes with ERR101; the PC window
//     refuses oid over 40 characters, buyertel blank or over 20, goodname,
//     buyername and buyeremail over their byte limits, and payViewType=popup
//     without popupUrl, with V023.
//   - StdPay grants come from data centres fc, ks and stg in turn (idc_name),
//     with authUrl/netCancelUrl under /idc/fc, /idc/ks and the root; a token
//     is approved only at the centre that issued it.
//   - The v2 hash is accepted over the data JSON exactly as received, or with
//     every backslash removed (as Java and Node samples compute it).
//   - clientIp is required but not checked against an allow-list; timestamps
//     are checked for format only unless Config.MaxSkew is set.
//   - StdPay: the window accepts only acceptmethod containing BILLAUTH and
//     charset UTF-8; payAuth and netCancel reply JSON only (format JSON or
//     absent); authTokens last Config.TokenTTL (10 minutes) and are single
//     use; the billKey is issued at payAuth, not before. netCancel is
//     accepted for any token the window issued, revokes the key payAuth
//     issued (charges then get [1195]) and is idempotent.
//   - Windows: card refusals post to returnUrl at once (StdPay: resultCode =
//     the code, resultMsg = the text; INILite: resultcode "01", resultmsg
//     "[code]text"); malformed input re-renders the window with a message.
//     Invalid window requests show the error and post it to returnUrl when
//     the buyer clicks 확인. Cancel: StdPay loads closeUrl when given, else
//     posts resultCode V801; INILite posts resultcode 99.
//   - The INIStdPay.js stand-in submits the form in the current browsing
//     context (page or iframe) instead of INICIS's overlay.
//   - KB국민 and 카카오뱅크 cards, refused by real test MIDs for billing-key
//     tests, are accepted.
//
// # Cards
//
// BINTable lists the issuers (INICIS and KFTC codes); MagicCards the special
// numbers. Any Luhn-valid number with a known BIN and an expiry not in the
// past is issued and approved; a Luhn-invalid number is refused with F111, an
// unknown BIN with F112, a past expiry with F113. After issuance only the
// masked number, BIN data, expiry and the charge behaviour are kept.
//
// # Faults
//
// Per request with the X-Sim-Fault header (see FaultHeader), globally with
// SetFaults or POST /_sim/faults. latency waits before handling and keeps
// handling even if the client has gone (as a real PG would); status replies
// without handling; drop-after-approve handles the request (approval,
// issuance, refund, payAuth...) and then holds the reply until the client
// gives up, Config.HoldMax passes (default 2 minutes) or Close is called, and
// closes the connection without a response. The magic card
// 4000-0000-0000-0119 holds every charge the same way. Faults never apply to
// /_sim/.
//
// # Window input names
//
// The card forms use sid (hidden), cardNumber, expiry (MM/YY) or
// expiryMonth + expiryYear, birth, pwd2digit; buttons have ids submit, cancel
// and close. Pages are Korean, responsive down to 360px, and frameable.
//
// The ledger (Ledger, GET /_sim/ledger) includes billing keys, for tests that
// check billkey never leaks them; it never holds a full card number.
//
// # State
//
// New keeps the ledger in memory. Open with Config.StateFile keeps it in an
// SQLite file of its own (mode 0600), written through on every change: keys,
// approvals, declines, refunds, net cancels, open windows and StdPay auth
// tokens survive a restart, as they do at INICIS. The file is locked by the
// simulator using it; Reset (POST /_sim/reset) clears it too; faults are
// never kept. Call CloseState once the server has stopped.
package inicissim
