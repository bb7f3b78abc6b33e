package api

import (
	"net/http"
)

type tokenView struct {
	AccessToken string `json:"access_token"`
	ExpiredAt   int64  `json:"expired_at"`
	Now         int64  `json:"now"`
}

// handleGetToken serves POST /users/getToken (JSON or form body).
func (s *Server) handleGetToken(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key, _ := p.String("imp_key")
	secret, _ := p.String("imp_secret")
	tok, now, err := s.Service.IssueToken(r.Context(), key, secret)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, tokenView{AccessToken: tok.Token, ExpiredAt: tok.ExpiresAt.Unix(), Now: now.Unix()})
}
