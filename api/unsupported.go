package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/billkey/billkey"
)

// billkey offers card billing through KG INICIS only. i'mport's other
// products (identity certification, virtual accounts, cash receipts, escrow,
// Naver Pay, KCP quick pay, PAYCO, Benepia points, convenience-store
// payments, Paymentwall, sub-merchant tiers, partner receipts) are answered
// as i'mport answers a merchant that has no such contract and no such data:
// a lookup of an unknown object is HTTP 404 with i'mport's message, an
// operation on one of billkey's payments (all card payments) is refused
// because that payment is not of the product's kind, and anything that
// would need a contract is refused with code 1 saying the contract is
// missing. Never a fake success.
//
// The texts i'mport's clients recorded are used as they are:
// 인증결과가 존재하지 않습니다. (unknown certification, HTTP 404),
// 존재하지 않는 결제정보입니다. (unknown imp_uid, HTTP 404) and a virtual
// account refusal containing 계약이 필요합니다.; the other texts are
// billkey's own, in the same style.

// UnsupportedKind is how an operation of a product billkey lacks is
// answered.
type UnsupportedKind int

const (
	// NoContract: code 1 (HTTP 200), the merchant has no contract for it.
	NoContract UnsupportedKind = iota
	// ByPayment: the {imp_uid} is looked up among billkey's payments: 404
	// when unknown, else code 1 because it is a card payment of another
	// kind.
	ByPayment
	// NoData: HTTP 404, no such object (billkey never has one).
	NoData
)

// UnsupportedOperation is one i'mport operation billkey does not offer.
type UnsupportedOperation struct {
	Method, Path string // Path in i'mport's OpenAPI spelling
	Product      string // product tag (for the OpenAPI document)
	Kind         UnsupportedKind
	Message      string
}

// Messages of unsupported products.
const (
	msgNoCertification = "인증결과가 존재하지 않습니다."
	msgCertContract    = "본인인증 서비스를 사용하려면 본인인증 PG사와의 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgVbankContract   = "가상계좌 발급을 위해서는 가상계좌 발급이 가능한 PG사와의 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgNotVbank        = "가상계좌 결제건이 아닙니다. (billkey의 결제는 모두 신용카드 결제입니다)"
	msgHolderContract  = "예금주 조회 서비스를 사용하려면 별도 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgNoReceipt       = "발급된 현금영수증이 존재하지 않습니다."
	msgNotReceiptable  = "현금영수증 발급 대상 결제건이 아닙니다. (신용카드 결제는 현금영수증을 발급할 수 없습니다)"
	msgReceiptContract = "현금영수증 발급을 위해서는 현금영수증 발급이 가능한 PG사와의 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgNotEscrow       = "에스크로 결제건이 아닙니다."
	msgNotNaver        = "네이버페이 결제건이 아닙니다."
	msgNaverContract   = "네이버페이 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgNoNaverOrder    = "존재하지 않는 네이버페이 상품주문입니다."
	msgNotPayco        = "PAYCO 결제건이 아닙니다."
	msgKCPContract     = "KCP 퀵페이 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgNoKCPMember     = "존재하지 않는 KCP 퀵페이 회원입니다."
	msgBenepiaContract = "베네피아 포인트 서비스 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgCVSContract     = "편의점 결제 계약이 필요합니다. (billkey는 KG이니시스 카드 정기결제만 제공합니다)"
	msgNotCVS          = "편의점 결제건이 아닙니다."
	msgPaymentwall     = "Paymentwall 결제건이 아닙니다. (Paymentwall 계약이 필요합니다)"
	msgNoTier          = "존재하지 않는 하위가맹점(tier)입니다."
	msgNotPartner      = "파트너 정산 대상 결제건이 아닙니다. (파트너 정산 계약이 필요합니다)"
)

// unsupportedOps lists every i'mport V1 operation of a product billkey
// does not offer, with its answer.
var unsupportedOps = []UnsupportedOperation{
	{"POST", "/benepia/point", "benepia", NoContract, msgBenepiaContract},
	{"POST", "/benepia/payment", "benepia", NoContract, msgBenepiaContract},
	{"GET", "/certifications/{imp_uid}", "certifications", NoData, msgNoCertification},
	{"DELETE", "/certifications/{imp_uid}", "certifications", NoData, msgNoCertification},
	{"POST", "/certifications/otp/request", "certifications", NoContract, msgCertContract},
	{"POST", "/certifications/otp/confirm/{imp_uid}", "certifications", NoData, msgNoCertification},
	{"POST", "/cvs", "cvs", NoContract, msgCVSContract},
	{"DELETE", "/cvs/{imp_uid}", "cvs", ByPayment, msgNotCVS},
	{"GET", "/escrows/logis/{imp_uid}", "escrows", ByPayment, msgNotEscrow},
	{"PUT", "/escrows/logis/{imp_uid}", "escrows", ByPayment, msgNotEscrow},
	{"POST", "/escrows/logis/{imp_uid}", "escrows", ByPayment, msgNotEscrow},
	{"DELETE", "/kcpquick/members/{member_id}", "kcpquick", NoData, msgNoKCPMember},
	{"POST", "/kcpquick/payment/money", "kcpquick", NoContract, msgKCPContract},
	{"POST", "/payments/{imp_uid}/naver/cancel", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/approve-cancel", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/ship", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/ship-exchanged", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/collect-exchanged", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/place", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/request-return", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/approve-return", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/reject-return", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/withhold-return", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/resolve-return", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/point", "naver", ByPayment, msgNotNaver},
	{"POST", "/payments/{imp_uid}/naver/confirm", "naver", ByPayment, msgNotNaver},
	{"GET", "/payments/{imp_uid}/naver/product-orders", "naver", ByPayment, msgNotNaver},
	{"GET", "/payments/{imp_uid}/naver/cash-amount", "naver", ByPayment, msgNotNaver},
	{"GET", "/naver/product-orders/{product_order_id}", "naver", NoData, msgNoNaverOrder},
	{"GET", "/naver/reviews", "naver", NoContract, msgNaverContract},
	{"POST", "/partners/receipts/{imp_uid}", "partners", ByPayment, msgNotPartner},
	{"POST", "/payco/orders/status/{imp_uid}", "payco", ByPayment, msgNotPayco},
	{"POST", "/paymentwall/delivery", "paymentwall", NoContract, msgPaymentwall},
	{"GET", "/receipts/{imp_uid}", "receipts", ByPayment, msgNoReceipt},
	{"POST", "/receipts/{imp_uid}", "receipts", ByPayment, msgNotReceiptable},
	{"DELETE", "/receipts/{imp_uid}", "receipts", ByPayment, msgNoReceipt},
	{"GET", "/receipts/external/{merchant_uid}", "receipts", NoData, msgNoReceipt},
	{"POST", "/receipts/external/{merchant_uid}", "receipts", NoContract, msgReceiptContract},
	{"DELETE", "/receipts/external/{merchant_uid}", "receipts", NoData, msgNoReceipt},
	{"GET", "/tiers/{tier_code}", "tiers", NoData, msgNoTier},
	{"POST", "/vbanks", "vbanks", NoContract, msgVbankContract},
	{"PUT", "/vbanks/{imp_uid}", "vbanks", ByPayment, msgNotVbank},
	{"DELETE", "/vbanks/{imp_uid}", "vbanks", ByPayment, msgNotVbank},
	{"GET", "/vbanks/holder", "vbanks", NoContract, msgHolderContract},
}

// UnsupportedOperations returns every i'mport operation of a product
// billkey does not offer, with how it is answered (for documentation and
// tests).
func UnsupportedOperations() []UnsupportedOperation { return slices.Clone(unsupportedOps) }

// naverGET is the path prefix of Naver Pay's GET operations. GET
// /payments/{imp_uid}/naver/{x} would conflict with GET
// /payments/find/{merchant_uid}/{payment_status} in ServeMux, so those are
// served by one less specific pattern (HandleProductOp) that dispatches on
// the path.
const naverGET = "/payments/{imp_uid}/naver/"

// UnsupportedRoute is the route of one unsupported operation.
type UnsupportedRoute struct {
	Pattern string // "METHOD /path"
	Handler http.HandlerFunc
}

// UnsupportedRoutes returns the route of every operation of
// UnsupportedOperations except Naver Pay's GETs (see HandleProductOp).
func (s *Server) UnsupportedRoutes() []UnsupportedRoute {
	var out []UnsupportedRoute
	for _, op := range unsupportedOps {
		if op.Method == http.MethodGet && strings.HasPrefix(op.Path, naverGET) {
			continue
		}
		out = append(out, UnsupportedRoute{op.Method + " " + op.Path, s.unsupported(op)})
	}
	return out
}

// HandleProductOp serves GET /payments/{imp_uid}/{product}/{op}: Naver
// Pay's unsupported GETs, and 404 for anything else.
func (s *Server) HandleProductOp(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("product") == "naver" {
		for _, op := range unsupportedOps {
			if op.Method == http.MethodGet && op.Path == naverGET+r.PathValue("op") {
				s.unsupported(op)(w, r)
				return
			}
		}
	}
	s.HandleNotFound(w, r)
}

func (s *Server) unsupported(op UnsupportedOperation) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch op.Kind {
		case NoData:
			s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "%s", op.Message))
		case ByPayment:
			if _, err := s.Service.Payment(r.Context(), merchantID(r), r.PathValue("imp_uid")); err != nil {
				s.writeError(w, r, err) // 존재하지 않는 결제정보입니다. (404)
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodDelete && op.Message == msgNoReceipt {
				s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "%s", op.Message))
				return
			}
			s.writeError(w, r, billkey.Errorf(billkey.EREJECTED, "%s", op.Message))
		default:
			s.writeError(w, r, billkey.Errorf(billkey.EREJECTED, "%s", op.Message))
		}
	}
}
