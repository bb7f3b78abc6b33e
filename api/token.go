package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/billkey/billkey"
)

type tokenView struct {
	AccessToken string `json:"access_token"`
	ExpiredAt   int64  `json:"expired_at"`
	Now         int64  `json:"now"`
}

// HandleGetToken serves POST /users/getToken (JSON or form body). Failed
// attempts are logged at warn and throttled per imp_key and per client
// address (see tokenThrottle): past the limit the answer is HTTP 429 with
// the envelope and a Retry-After header.
func (s *Server) HandleGetToken(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key, _ := p.String("imp_key")
	secret, _ := p.String("imp_secret")
	addr := clientIP(r)
	now := time.Now()
	if blocked, until := s.throttle.blocked(key, addr, now); blocked {
		s.Logger.Warn("getToken throttled", slog.String("imp_key", truncate(key, 40)), slog.String("client", addr))
		secs := int64(until.Sub(now)/time.Second) + 1
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		msg := "인증 실패가 너무 많아 잠시 차단되었습니다. " + strconv.FormatInt(secs, 10) + "초 후 다시 시도하세요. (too many failed attempts)"
		writeJSON(w, http.StatusTooManyRequests, envelope{Code: -1, Message: &msg})
		return
	}
	tok, srvNow, err := s.Service.IssueToken(r.Context(), key, secret)
	if err != nil {
		if billkey.ErrorCode(err) == billkey.EUNAUTHORIZED || billkey.ErrorCode(err) == billkey.EINVALID {
			s.throttle.failed(key, addr, now)
			s.Logger.Warn("getToken failed", slog.String("imp_key", truncate(key, 40)), slog.String("client", addr),
				slog.String("reason", billkey.ErrorMessage(err)))
		}
		s.writeError(w, r, err)
		return
	}
	s.throttle.succeeded(key, addr, now)
	writeOK(w, tokenView{AccessToken: tok.Token, ExpiredAt: tok.ExpiresAt.Unix(), Now: srvNow.Unix()})
}
