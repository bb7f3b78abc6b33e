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

// Channel is one PG setting of a merchant: which PG (a provider name of the
// PG registry, see PGRegistry), which MID, test or live, and the provider's
// credentials (decrypted only in memory).
type Channel struct {
	ID          int64
	MerchantID  int64
	Provider    string // a registered provider name, e.g. ProviderHTML5Inicis
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

// ChannelCredentials are a channel's PG secrets as an opaque blob: each PG
// provider defines and parses its own format (for KG INICIS, the JSON of
// inicis.Credentials). They are stored sealed, decrypted only in memory, and
// never logged: String, GoString and LogValue redact them, and fmt's %s, %v
// and %x print the redaction too.
type ChannelCredentials []byte

// String redacts every secret.
func (ChannelCredentials) String() string { return "ChannelCredentials{redacted}" }

// GoString redacts every secret (fmt's %#v).
func (ChannelCredentials) GoString() string { return "ChannelCredentials{redacted}" }

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
