package gateway

import (
	"context"
	"fmt"
)

// RotateAPISecret gives the merchant a new REST API secret (imp_secret),
// returned this once and stored only as a keyed MAC. The old secret stops
// working at once, and so does the merchant's access token: this node
// forgets it now, other nodes within their one-minute token cache.
func (s *Service) RotateAPISecret(ctx context.Context, merchantID int64) (string, error) {
	secret := randomAlnum(80)
	if err := s.Store.SetMerchantSecretMAC(ctx, merchantID, s.Keys.MAC(macAPISecret, []byte(secret))); err != nil {
		return "", fmt.Errorf("gateway: rotate API secret: %w", err)
	}
	s.cache.mu.Lock()
	for tok, e := range s.cache.tokens {
		if e.merchantID == merchantID {
			delete(s.cache.tokens, tok)
		}
	}
	s.cache.mu.Unlock()
	s.Logger.Info("API secret rotated", "merchant_id", merchantID)
	return secret, nil
}
