package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/billkey/billkey"
)

// Cache lifetimes. Tokens are only ever replaced after they expire, so a
// cached token is exactly as valid as the stored one until its expiry (its
// extension is picked up once the cached entry lapses). Channels change
// rarely, by an operator; other nodes see a change within channelTTL.
const (
	tokenTTL   = time.Minute
	channelTTL = 10 * time.Second
	maxTokens  = 10000
	// tokenRevocationCheck is how often a node asks the database whether
	// any merchant's tokens were revoked (billkey merchant revoke-tokens on
	// any node or host), dropping its token cache when so.
	tokenRevocationCheck = time.Second
)

type cachedToken struct {
	merchantID int64
	expires    time.Time
	cachedAt   time.Time
}

type cachedChannels struct {
	list     []*billkey.Channel
	cachedAt time.Time
}

// caches spare the database the lookups every API call repeats.
type caches struct {
	mu       sync.Mutex
	tokens   map[string]cachedToken
	channels map[int64]cachedChannels

	revMu      sync.Mutex
	revChecked time.Time // when the revocation mark was last read
	revMark    int64     // the last revocation mark seen
}

// dropTokens forgets every cached token.
func (c *caches) dropTokens() {
	c.mu.Lock()
	clear(c.tokens)
	c.mu.Unlock()
}

// checkRevocations drops the token cache when the store's revocation mark
// moved since it was last read, at most once per tokenRevocationCheck.
func (s *Service) checkRevocations(ctx context.Context, now time.Time) error {
	c := &s.cache
	if !c.revMu.TryLock() {
		return nil // another request is reading the mark right now
	}
	defer c.revMu.Unlock()
	if !c.revChecked.IsZero() && now.Sub(c.revChecked) < tokenRevocationCheck && now.After(c.revChecked) {
		return nil
	}
	mark, err := s.Store.TokensRevokedMark(ctx)
	if err != nil {
		return err
	}
	if mark != c.revMark {
		c.dropTokens()
		c.revMark = mark
	}
	c.revChecked = now
	return nil
}

func (c *caches) token(tok string, now time.Time) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tokens[tok]
	if !ok || !now.Before(e.expires) || now.Sub(e.cachedAt) > tokenTTL {
		return 0, false
	}
	return e.merchantID, true
}

func (c *caches) putToken(tok string, merchantID int64, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]cachedToken{}
	}
	if len(c.tokens) >= maxTokens {
		for k, e := range c.tokens {
			if !now.Before(e.expires) || now.Sub(e.cachedAt) > tokenTTL {
				delete(c.tokens, k)
			}
		}
		if len(c.tokens) >= maxTokens {
			clear(c.tokens)
		}
	}
	c.tokens[tok] = cachedToken{merchantID: merchantID, expires: expires, cachedAt: now}
}

// channels returns the merchant's channels (default first), cached.
func (s *Service) channels(ctx context.Context, merchantID int64) ([]*billkey.Channel, error) {
	now := s.Now()
	s.cache.mu.Lock()
	e, ok := s.cache.channels[merchantID]
	s.cache.mu.Unlock()
	if ok && now.Sub(e.cachedAt) < channelTTL {
		return e.list, nil
	}
	list, err := s.Store.Channels(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	if s.cache.channels == nil {
		s.cache.channels = map[int64]cachedChannels{}
	}
	s.cache.channels[merchantID] = cachedChannels{list: list, cachedAt: now}
	s.cache.mu.Unlock()
	return list, nil
}

// channel returns one of the merchant's channels.
func (s *Service) channel(ctx context.Context, merchantID, channelID int64) (*billkey.Channel, error) {
	list, err := s.channels(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	for _, ch := range list {
		if ch.ID == channelID {
			return ch, nil
		}
	}
	// Not cached yet (added a moment ago): ask the store.
	return s.Store.ChannelByID(ctx, merchantID, channelID)
}

func (s *Service) forgetChannels(merchantID int64) {
	s.cache.mu.Lock()
	delete(s.cache.channels, merchantID)
	s.cache.mu.Unlock()
}
