package billkey

import (
	"log/slog"
	"time"
)

// Merchant is an account that takes payments through billkey. Its REST API
// secret is never stored: only a keyed hash of it (see the sqlstore package).
type Merchant struct {
	ID         int64
	ImpCode    string // "imp" + 8 digits, used by IMP.init
	Name       string
	APIKey     string // imp_key: public identifier of the REST credentials
	WebhookURL string // default notification URL when a call has no notice_url
	CreatedAt  time.Time

	// NoticeHosts are the hosts, besides WebhookURL's, that a payment
	// window's notice_url may name (lowercase host or host:port).
	NoticeHosts []string
}

// PG provider names accepted in channel settings and in the pg parameter.
const (
	ProviderHTML5Inicis = "html5_inicis"
	ProviderInicis      = "inicis"
)

// Channel is one PG setting of a merchant: which PG, which MID, test or live,
// and the INICIS credentials (decrypted only in memory).
type Channel struct {
	ID          int64
	MerchantID  int64
	Provider    string // ProviderHTML5Inicis or ProviderInicis
	MID         string
	Live        bool
	Default     bool
	Credentials ChannelCredentials
	CreatedAt   time.Time

	// MobileWindow is what a phone gets from the payment window:
	// MobileWindowStdPay (the default) or MobileWindowRefuse.
	MobileWindow string
}

// Mobile window settings of a channel. The legacy INILite mobile window posts
// its billing key through the buyer's browser with nothing signed, so a
// forged post could not be told from a real one: billkey never accepts it.
const (
	// MobileWindowStdPay opens INICIS's INIStdPay billing window on phones
	// too (page redirect), approved server to server like on PC.
	MobileWindowStdPay = "stdpay"
	// MobileWindowRefuse refuses payment windows on phones with a clear
	// message (for a contract that allows INIStdPay on PC only).
	MobileWindowRefuse = "refuse"
)

// PGChannel returns what a PG connector needs to talk for this channel.
func (c *Channel) PGChannel() PGChannel {
	return PGChannel{Provider: c.Provider, MID: c.MID, Live: c.Live, Credentials: c.Credentials}
}

// ChannelCredentials are the per-MID INICIS secrets. They are stored encrypted
// and never logged (LogValue redacts them).
type ChannelCredentials struct {
	SignKey string // INIStdPay web signKey
	APIKey  string // INIAPI key
	APIIV   string // INIAPI IV (16 raw bytes, used as-is)
	LiteKey string // INILite key (mobile / INILite billing windows)
}

// String redacts every secret.
func (ChannelCredentials) String() string { return "ChannelCredentials{redacted}" }

// LogValue redacts every secret.
func (ChannelCredentials) LogValue() slog.Value { return slog.StringValue("redacted") }

// AccessToken is an API token issued by POST /users/getToken.
type AccessToken struct {
	Token      string // 40 lowercase hex characters; only its hash is stored
	MerchantID int64
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// Token lifetime rules of i'mport (README, "Behaviour worth knowing").
const (
	TokenLifetime  = 30 * time.Minute
	TokenExtendIn  = time.Minute     // a getToken in the last minute...
	TokenExtension = 5 * time.Minute // ...extends the expiry by this much
)
