package gateway

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/billkey/billkey"
)

// IssueToken implements POST /users/getToken: it checks the REST credentials
// and returns the merchant's current token (see MerchantStore.CurrentToken for the
// reuse and extension rules) and the server time.
func (s *Service) IssueToken(ctx context.Context, impKey, impSecret string) (*billkey.AccessToken, time.Time, error) {
	if impKey == "" || impSecret == "" {
		return nil, time.Time{}, billkey.Errorf(billkey.EINVALID, "imp_key, imp_secret 파라메터가 누락되었습니다.")
	}
	m, err := s.checkSecret(ctx, impKey, impSecret)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := s.Now()
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	token := s.deriveToken(m.ID, nonce)
	rec, err := s.Store.CurrentToken(ctx, m.ID, nonce, s.Keys.MAC(macTokenLookup, []byte(token)), now)
	if err != nil {
		return nil, time.Time{}, err
	}
	return &billkey.AccessToken{
		Token: s.deriveToken(m.ID, rec.Nonce), MerchantID: m.ID, IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt,
	}, now, nil
}

// deriveToken computes a token from its stored nonce. Only the nonce and the
// token's lookup MAC are stored, so a database dump yields no usable token.
func (s *Service) deriveToken(merchantID int64, nonce []byte) string {
	msg := binary.BigEndian.AppendUint64(nil, uint64(merchantID))
	msg = append(msg, nonce...)
	return hex.EncodeToString(s.Keys.MAC(macTokenDerive, msg))[:40]
}

var errBadToken = billkey.Errorf(billkey.EUNAUTHORIZED, "인증 토큰이 없거나 유효하지 않습니다. (Unauthorized)")

// Authenticate returns the merchant id a valid, unexpired token belongs to.
func (s *Service) Authenticate(ctx context.Context, token string) (int64, error) {
	if len(token) != 40 {
		return 0, errBadToken
	}
	now := s.Now()
	if err := s.checkRevocations(ctx, now); err != nil {
		return 0, err
	}
	if id, ok := s.cache.token(token, now); ok {
		return id, nil
	}
	merchantID, expires, err := s.Store.TokenByMAC(ctx, s.Keys.MAC(macTokenLookup, []byte(token)))
	if billkey.ErrorCode(err) == billkey.EUNAUTHORIZED {
		return 0, errBadToken
	} else if err != nil {
		return 0, err
	}
	if !now.Before(expires) {
		return 0, billkey.Errorf(billkey.EUNAUTHORIZED, "토큰이 만료되었습니다. (token expired)")
	}
	s.cache.putToken(token, merchantID, expires, now)
	return merchantID, nil
}
