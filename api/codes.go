package api

import (
	"net/http"
	"slices"

	"github.com/billkey/billkey"
)

// standardCode is i'mport's StandardCodeAnnotation: a KFTC (금융결제원)
// standard institution code and its registered name.
type standardCode struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// cardCodes are the card companies' KFTC standard codes, the values of a
// payment's and a billing key's card_code. Source: KFTC's standard
// financial institution codes (금융결제원 표준 금융기관 코드) as PortOne's
// V1 documentation lists them for card_code (카드사 코드).
var cardCodes = []standardCode{
	{"361", "BC카드"},
	{"364", "광주카드"},
	{"365", "삼성카드"},
	{"366", "신한카드"},
	{"367", "현대카드"},
	{"368", "롯데카드"},
	{"369", "수협카드"},
	{"370", "씨티카드"},
	{"371", "NH카드"},
	{"372", "전북카드"},
	{"373", "제주카드"},
	{"374", "하나SK카드"},
	{"381", "KB국민카드"},
	{"041", "우리카드"},
	{"071", "우체국카드"},
	{"002", "KDB산업은행카드"},
	{"045", "MG새마을금고카드"},
	{"048", "신협카드"},
	{"089", "케이뱅크카드"},
	{"090", "카카오뱅크카드"},
}

// bankCodes are the banks' KFTC standard codes (bank_code). Source: KFTC's
// standard financial institution codes (금융결제원 표준 금융기관 코드,
// 은행 및 비은행 예금취급기관), the table PortOne's V1 documentation links
// for bank_code (은행 코드).
var bankCodes = []standardCode{
	{"002", "KDB산업은행"},
	{"003", "IBK기업은행"},
	{"004", "KB국민은행"},
	{"007", "수협은행"},
	{"011", "NH농협은행"},
	{"012", "지역농축협"},
	{"020", "우리은행"},
	{"023", "SC제일은행"},
	{"027", "한국씨티은행"},
	{"031", "iM뱅크(대구은행)"},
	{"032", "부산은행"},
	{"034", "광주은행"},
	{"035", "제주은행"},
	{"037", "전북은행"},
	{"039", "경남은행"},
	{"045", "새마을금고"},
	{"048", "신협"},
	{"050", "저축은행"},
	{"054", "HSBC은행"},
	{"055", "도이치은행"},
	{"057", "JP모간체이스은행"},
	{"060", "BOA은행"},
	{"062", "중국공상은행"},
	{"064", "산림조합중앙회"},
	{"067", "중국건설은행"},
	{"071", "우체국"},
	{"081", "하나은행"},
	{"088", "신한은행"},
	{"089", "케이뱅크"},
	{"090", "카카오뱅크"},
	{"092", "토스뱅크"},
}

// Messages of an unknown code (HTTP 404), after i'mport's OpenAPI texts.
const (
	noCardCode = "코드에 해당되는 카드사정보를 찾을 수 없습니다."
	noBankCode = "코드에 해당되는 은행정보를 찾을 수 없습니다."
)

// HandleCards serves GET /cards: the KFTC card company codes.
func (s *Server) HandleCards(w http.ResponseWriter, r *http.Request) { writeOK(w, cardCodes) }

// HandleCard serves GET /cards/{code}.
func (s *Server) HandleCard(w http.ResponseWriter, r *http.Request) {
	s.codeOne(w, r, cardCodes, noCardCode)
}

// HandleBanks serves GET /banks: the KFTC bank codes.
func (s *Server) HandleBanks(w http.ResponseWriter, r *http.Request) { writeOK(w, bankCodes) }

// HandleBank serves GET /banks/{code}.
func (s *Server) HandleBank(w http.ResponseWriter, r *http.Request) {
	s.codeOne(w, r, bankCodes, noBankCode)
}

func (s *Server) codeOne(w http.ResponseWriter, r *http.Request, codes []standardCode, notFound string) {
	code := r.PathValue("code")
	if i := slices.IndexFunc(codes, func(c standardCode) bool { return c.Code == code }); i >= 0 {
		writeOK(w, codes[i])
		return
	}
	s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "%s", notFound))
}

// pgSetting is i'mport's PgSettingAnnotation.
type pgSetting struct {
	PGProvider string `json:"pg_provider"`
	PGID       string `json:"pg_id"`
	Sandbox    bool   `json:"sandbox"`
	Type       string `json:"type"`
}

// HandlePGSettings serves GET /users/pg: the merchant's INICIS channels
// in i'mport's shape, the default channel first. Each channel serves both
// the billing window (type "payment", i'mport's 일반결제 및 정기결제) and
// the REST billing calls (type "api_payment", 키인결제), so it is listed
// once for each; sandbox is true for a test channel (the simulator or
// INICIS's test MIDs).
func (s *Server) HandlePGSettings(w http.ResponseWriter, r *http.Request) {
	chs, err := s.Service.Channels(r.Context(), merchantID(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	slices.SortStableFunc(chs, func(a, b *billkey.Channel) int {
		switch {
		case a.Default == b.Default:
			return 0
		case a.Default:
			return -1
		}
		return 1
	})
	out := make([]pgSetting, 0, 2*len(chs))
	for _, typ := range []string{"payment", "api_payment"} {
		for _, ch := range chs {
			out = append(out, pgSetting{PGProvider: ch.Provider, PGID: ch.MID, Sandbox: !ch.Live, Type: typ})
		}
	}
	writeOK(w, out)
}
