package inicissim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// v2Request is the INIAPI v2 JSON envelope with data kept byte-exact.
type v2Request struct {
	MID       string          `json:"mid"`
	Type      string          `json:"type"`
	PayMethod string          `json:"paymethod"`
	Timestamp string          `json:"timestamp"`
	ClientIP  string          `json:"clientIp"`
	Data      json.RawMessage `json:"data"`
	HashData  string          `json:"hashData"`
}

// readV2 decodes and verifies a v2 request of type wantType: blank fields,
// timestamp, MID and hashData = SHA512(key + mid + type + timestamp + data),
// data taken exactly as received (or with every backslash removed, as Java
// and Node samples hash it). It returns the account and data fields, or
// false after replying.
func (s *Simulator) readV2(w http.ResponseWriter, r *http.Request, wantType string) (v2Request, Account, map[string]string, bool) {
	var req v2Request
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		err = dec.Decode(&req)
	}
	if err != nil {
		writeJSON(w, paramReply([]fieldError{{"body", msgFormat}}))
		return req, Account{}, nil, false
	}
	get := func(n string) string {
		switch n {
		case "mid":
			return req.MID
		case "type":
			return req.Type
		case "timestamp":
			return req.Timestamp
		case "clientIp":
			return req.ClientIP
		case "hashData":
			return req.HashData
		case "data":
			return string(req.Data)
		}
		return ""
	}
	if errs := blanks(get, "mid", "type", "timestamp", "clientIp", "data", "hashData"); len(errs) > 0 {
		writeJSON(w, paramReply(errs))
		return req, Account{}, nil, false
	}
	if req.Type != wantType {
		writeJSON(w, paramReply([]fieldError{{"type", msgFormat}}))
		return req, Account{}, nil, false
	}
	data, err := flatJSON(req.Data)
	if err != nil {
		writeJSON(w, paramReply([]fieldError{{"data", msgFormat}}))
		return req, Account{}, nil, false
	}
	acct, bad := s.checkCommon(req.MID, req.Timestamp)
	if bad != nil {
		writeJSON(w, bad)
		return req, Account{}, nil, false
	}
	raw := string(req.Data)
	if !hashOK(req.HashData, sha512Of(acct.APIKey, req.MID, req.Type, req.Timestamp, raw)) &&
		!hashOK(req.HashData, sha512Of(acct.APIKey, req.MID, req.Type, req.Timestamp, strings.ReplaceAll(raw, `\`, ""))) {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "inicissim v2: hash mismatch", slog.String("mid", acct.MID), slog.String("type", req.Type))
		writeJSON(w, failReply(refHash))
		return req, Account{}, nil, false
	}
	return req, acct, data, true
}

// flatJSON reads a JSON object whose values are scalars into text.
func flatJSON(raw json.RawMessage) (map[string]string, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, io.ErrUnexpectedEOF
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		case bool:
			out[k] = strconv.FormatBool(x)
		case nil:
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out, nil
}

// handleV2Billing serves POST /v2/pg/billing (type "billing").
func (s *Simulator) handleV2Billing(w http.ResponseWriter, r *http.Request) {
	req, acct, d, ok := s.readV2(w, r, "billing")
	if !ok {
		return
	}
	get := func(n string) string { return d[n] }
	errs := blanks(get, "moid", "goodName", "buyerName", "buyerEmail", "buyerTel", "price", "billKey")
	if req.PayMethod != "" && req.PayMethod != "Card" {
		errs = append(errs, fieldError{"paymethod", msgFormat})
	}
	if len(errs) > 0 {
		writeJSON(w, paramReply(errs))
		return
	}
	if l := tooLong(get, apiLimits); l != nil {
		writeJSON(w, lengthReply(l))
		return
	}
	s.charge(w, r, acct, chargeInOf(get))
}

// handleV2Refund serves POST /v2/pg/refund (type "refund" only).
func (s *Simulator) handleV2Refund(w http.ResponseWriter, r *http.Request) {
	_, acct, d, ok := s.readV2(w, r, "refund")
	if !ok {
		return
	}
	if d["price"] != "" || d["confirmPrice"] != "" {
		writeJSON(w, failReply(refBadRefundTy))
		return
	}
	if errs := blanks(func(n string) string { return d[n] }, "tid"); len(errs) > 0 {
		writeJSON(w, paramReply(errs))
		return
	}
	s.refund(w, r, acct, d["tid"], false, "", "")
}

// handleV2PartialRefund serves POST /v2/pg/partialRefund (type
// "partialRefund").
func (s *Simulator) handleV2PartialRefund(w http.ResponseWriter, r *http.Request) {
	_, acct, d, ok := s.readV2(w, r, "partialRefund")
	if !ok {
		return
	}
	if errs := blanks(func(n string) string { return d[n] }, "tid", "price", "confirmPrice"); len(errs) > 0 {
		writeJSON(w, paramReply(errs))
		return
	}
	s.refund(w, r, acct, d["tid"], true, d["price"], d["confirmPrice"])
}
