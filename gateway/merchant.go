package gateway

import (
	"context"
	"crypto/subtle"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// Public KG INICIS test credentials of the billing MID INIBillTst, as INICIS's
// published test account information lists them; a new merchant's test
// channel uses them against the simulator.
var TestChannelCredentials = billkey.ChannelCredentials{
	SignKey: "SU5JTElURV9UUklQTEVERVNfS0VZU1RS",
	APIKey:  "rKnPljRn5m6J9Mzz",
	APIIV:   "W2KLNKra6Wxc1P==",
	LiteKey: "b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09",
}

// TestMID is the MID of a new merchant's test channel.
const TestMID = "INIBillTst"

// NewMerchant is the input of CreateMerchant. Empty ImpCode, ImpKey and
// ImpSecret are generated; a merchant moving from i'mport passes its own.
type NewMerchant struct {
	Name          string
	ImpCode       string
	ImpKey        string
	ImpSecret     string
	WebhookURL    string
	NoTestChannel bool
}

// CreatedMerchant is a new merchant with its secret, shown this once.
type CreatedMerchant struct {
	Merchant  *billkey.Merchant
	ImpSecret string
	// WebhookSecret signs the merchant's webhooks (Standard Webhooks);
	// like ImpSecret it is shown only now and stored only sealed.
	WebhookSecret string
}

var impCodeRE = regexp.MustCompile(`^imp[0-9]{8}$`)

// CreateMerchant creates a merchant and, unless told otherwise, its
// html5_inicis test channel on MID INIBillTst (served by the simulator).
func (s *Service) CreateMerchant(ctx context.Context, in NewMerchant) (*CreatedMerchant, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, billkey.Errorf(billkey.EINVALID, "merchant name is required")
	}
	if in.ImpCode != "" && !impCodeRE.MatchString(in.ImpCode) {
		return nil, billkey.Errorf(billkey.EINVALID, "imp code must be \"imp\" followed by 8 digits, got %q", in.ImpCode)
	}
	if in.ImpKey != "" && (len(in.ImpKey) < 4 || len(in.ImpKey) > 100 || strings.ContainsAny(in.ImpKey, " \t\r\n")) {
		return nil, billkey.Errorf(billkey.EINVALID, "imp key must be 4 to 100 characters without spaces")
	}
	if in.ImpSecret != "" && (len(in.ImpSecret) < 8 || len(in.ImpSecret) > 200) {
		return nil, billkey.Errorf(billkey.EINVALID, "imp secret must be 8 to 200 characters")
	}
	m := &billkey.Merchant{Name: in.Name, ImpCode: in.ImpCode, APIKey: in.ImpKey, WebhookURL: in.WebhookURL}
	secret := in.ImpSecret
	if secret == "" {
		secret = randomAlnum(80)
	}
	var channels []*billkey.Channel
	if !in.NoTestChannel {
		channels = append(channels, &billkey.Channel{
			Provider: billkey.ProviderHTML5Inicis, MID: TestMID, Default: true, Credentials: TestChannelCredentials,
		})
	}
	for attempt := 0; ; attempt++ {
		if in.ImpCode == "" {
			m.ImpCode = "imp" + randomDigits(8)
		}
		if in.ImpKey == "" {
			m.APIKey = randomDigits(16)
		}
		err := s.Store.CreateMerchant(ctx, m, s.Keys.MAC(macAPISecret, []byte(secret)), channels)
		if err == nil {
			break
		}
		// A generated code or key that collides is drawn again; given
		// values that collide are the caller's to change.
		generated := in.ImpCode == "" || in.ImpKey == ""
		if billkey.ErrorCode(err) != billkey.EREJECTED || !generated || attempt > 5 {
			return nil, err
		}
	}
	// Every merchant signs its webhooks from the first one.
	wh, err := s.RotateWebhookSecret(ctx, m.ID, 0)
	if err != nil {
		return nil, fmt.Errorf("gateway: webhook secret of merchant %s: %w", m.ImpCode, err)
	}
	return &CreatedMerchant{Merchant: m, ImpSecret: secret, WebhookSecret: wh.Secret}, nil
}

// checkSecret authenticates REST API credentials: the current secret, or
// the one it replaced while that one overlaps (RotateSecret).
func (s *Service) checkSecret(ctx context.Context, impKey, impSecret string) (*billkey.Merchant, error) {
	m, mac, prevMAC, prevUntil, err := s.Store.MerchantSecrets(ctx, impKey)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		// Spend the same MAC work as a known key, so timing does not tell
		// which keys exist.
		_ = s.Keys.MAC(macAPISecret, []byte(impSecret))
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	given := s.Keys.MAC(macAPISecret, []byte(impSecret))
	ok := subtle.ConstantTimeCompare(mac, given) == 1
	if len(prevMAC) > 0 && s.Now().Before(prevUntil) {
		ok = subtle.ConstantTimeCompare(prevMAC, given) == 1 || ok
	}
	if !ok {
		return nil, errBadCredentials
	}
	return m, nil
}

// RotateSecret gives the merchant with the imp code a new REST API secret,
// returned this once and stored only as a keyed hash. The old secret keeps
// working for overlap (at most MaxSecretOverlap; 0 ends it at once), so the
// merchant's servers can switch without downtime. Tokens already issued stay
// valid until they expire; RevokeTokens ends them.
func (s *Service) RotateSecret(ctx context.Context, impCode string, overlap time.Duration) (secret string, oldValidUntil time.Time, err error) {
	if overlap < 0 || overlap > MaxSecretOverlap {
		return "", time.Time{}, billkey.Errorf(billkey.EINVALID, "overlap must be between 0 and %s", MaxSecretOverlap)
	}
	m, err := s.Store.MerchantByImpCode(ctx, impCode)
	if err != nil {
		return "", time.Time{}, err
	}
	secret = randomAlnum(80)
	if overlap > 0 {
		oldValidUntil = s.Now().Add(overlap)
	}
	if err := s.Store.RotateSecret(ctx, m.ID, s.Keys.MAC(macAPISecret, []byte(secret)), oldValidUntil); err != nil {
		return "", time.Time{}, err
	}
	s.Logger.Warn("REST API secret rotated", "merchant", m.ImpCode, "old_secret_valid_until", oldValidUntil)
	return secret, oldValidUntil, nil
}

// RevokeTokens ends every access token of the merchant with the imp code,
// on every node: the token row is deleted, and each node's token cache is
// dropped when it next checks the revocation mark (at most
// tokenRevocationCheck later).
func (s *Service) RevokeTokens(ctx context.Context, impCode string) error {
	m, err := s.Store.MerchantByImpCode(ctx, impCode)
	if err != nil {
		return err
	}
	if err := s.Store.RevokeTokens(ctx, m.ID, s.Now()); err != nil {
		return err
	}
	s.cache.dropTokens()
	s.Logger.Warn("access tokens revoked", "merchant", m.ImpCode)
	return nil
}

var errBadCredentials = billkey.Errorf(billkey.EUNAUTHORIZED, "인증에 실패하였습니다. API키와 secret을 확인하세요.")

// AddChannel adds a PG channel to the merchant with the imp code.
func (s *Service) AddChannel(ctx context.Context, impCode string, ch *billkey.Channel) error {
	switch ch.Provider {
	case billkey.ProviderHTML5Inicis, billkey.ProviderInicis:
	default:
		return billkey.Errorf(billkey.EINVALID, "지원하지 않는 PG입니다: %q (html5_inicis, inicis)", ch.Provider)
	}
	if ch.MID == "" || len(ch.MID) > 20 {
		return billkey.Errorf(billkey.EINVALID, "MID is required (at most 20 characters)")
	}
	if ch.Live && (ch.Credentials.APIKey == "" || ch.Credentials.APIIV == "") {
		return billkey.Errorf(billkey.EINVALID, "a live channel needs its INIAPI key and IV")
	}
	if ch.MobileWindow == "" {
		ch.MobileWindow = billkey.MobileWindowStdPay
	}
	if err := checkMobileWindow(ch.MobileWindow); err != nil {
		return err
	}
	m, err := s.Store.MerchantByImpCode(ctx, impCode)
	if err != nil {
		return err
	}
	existing, err := s.Store.Channels(ctx, m.ID)
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		ch.Default = true
	}
	ch.MerchantID = m.ID
	defer s.forgetChannels(m.ID)
	return s.Store.CreateChannel(ctx, ch)
}

func checkMobileWindow(mode string) error {
	if mode != billkey.MobileWindowStdPay && mode != billkey.MobileWindowRefuse {
		return billkey.Errorf(billkey.EINVALID, "mobile window must be %q or %q, not %q", billkey.MobileWindowStdPay, billkey.MobileWindowRefuse, mode)
	}
	return nil
}

// SetMobileWindow sets what the channel (by MID) of the merchant with the
// imp code does on phones: billkey.MobileWindowStdPay (the INIStdPay
// window, verified server to server) or billkey.MobileWindowRefuse.
func (s *Service) SetMobileWindow(ctx context.Context, impCode, mid, mode string) error {
	if err := checkMobileWindow(mode); err != nil {
		return err
	}
	m, err := s.Store.MerchantByImpCode(ctx, impCode)
	if err != nil {
		return err
	}
	chs, err := s.Store.Channels(ctx, m.ID)
	if err != nil {
		return err
	}
	defer s.forgetChannels(m.ID)
	found := false
	for _, ch := range chs {
		if ch.MID == mid {
			found = true
			if err := s.Store.SetMobileWindow(ctx, m.ID, ch.ID, mode); err != nil {
				return err
			}
		}
	}
	if !found {
		return billkey.Errorf(billkey.ENOTFOUND, "MID %s에 해당하는 PG 설정이 없습니다.", mid)
	}
	return nil
}
